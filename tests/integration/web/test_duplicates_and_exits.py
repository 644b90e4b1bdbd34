"""Possible duplicates (D2, D3) and poverty exits on the review site: the side-by-side comparison
with its score breakdown, a merge with a choice per property and its undo, marking two
households distinct; exits listed for certification, certified with the decision date or
declined with a reason, and counted on the dashboard."""

from __future__ import annotations

import datetime as dt
import re
from zoneinfo import ZoneInfo

from forms.instance import to_xml
from server.db import db
from server.models import (
    AuditEvent,
    CaseStatus,
    DuplicateCase,
    ExitDecision,
    Household,
    HouseholdStatus,
    PovertyExit,
)
from server.services.access import users
from server.services.receiving import ingest
from tests.integration.contract.submissions import visit
from tests.integration.web.site import Site


def _case(app, case_id: int) -> DuplicateCase:
    with app.app_context():
        found = db.session.get(DuplicateCase, case_id)
        db.session.expunge(found)
        db.session.remove()
    return found


def _household(app, household_id: str) -> Household:
    with app.app_context():
        found = db.session.get(Household, household_id)
        db.session.expunge(found)
        db.session.remove()
    return found


# -- duplicates ------------------------------------------------------------------------------


def test_d2_the_comparison_highlights_differences_and_shows_the_score_breakdown(
    app, full_site: Site, browser_of
):
    cases = full_site.cases
    browser = browser_of("official_a")
    listed = browser.get("/review/duplicates").get_data(as_text=True)
    assert re.findall(r'data-case="(\d+)"', listed) == [str(cases.case_id)]
    body = browser.get(f"/review/duplicates/{cases.case_id}").get_data(as_text=True)
    breakdown = body.split('id="breakdown"')[1].split("</table>")[0]
    assert "Họ tên chủ hộ" in breakdown and "+4.0" in breakdown and "Số điện thoại" in breakdown
    assert re.search(r'id="score">11\.5<', body)
    comparison = body.split('id="comparison"')[1].split("</table>")[0]
    assert re.search(r'data-property="address" class="differs"', comparison)
    assert re.search(r'data-property="head_name" class="same"', comparison)
    assert "Nhà số 3" in comparison and "Nhà số 5" in comparison
    assert len(re.findall(r'name="keep:', comparison)) == 2  # only the one difference
    # Calculated properties, which have no label in the form, under the standard's words.
    assert ">Việc làm<" in comparison and ">Số chỉ số thiếu hụt<" in comparison
    assert ">employment<" not in comparison and ">deprivation_count<" not in comparison


def test_d3_an_official_merges_with_a_choice_per_property_and_undoes_it(
    app, full_site: Site, browser_of
):
    cases = full_site.cases
    kept, absorbed = cases.twins
    browser = browser_of("official_a")
    url = f"/review/duplicates/{cases.case_id}"
    browser.get(url)
    browser.post(
        f"{url}/decision", {"decision": "merge", "survivor": kept, "keep:address": absorbed}
    )
    assert "Đã gộp hai hộ." in browser.followed
    case = _case(app, cases.case_id)
    assert (case.status, case.survivor_id) == (CaseStatus.MERGED, kept)
    survivor, gone = _household(app, kept), _household(app, absorbed)
    assert survivor.properties["address"] == "Nhà số 5"  # the absorbed one's value, as chosen
    assert (gone.status, gone.merged_into_id) == (HouseholdStatus.MERGED, kept)
    page = browser.get(f"/review/households/{absorbed}").get_data(as_text=True)
    assert f"/review/households/{kept}" in page.split("Đã gộp vào")[1]  # the redirect shown

    browser.post(f"{url}/decision", {"decision": "undo"})
    assert "Đã hoàn tác quyết định." in browser.followed
    assert _case(app, cases.case_id).status == CaseStatus.OPEN
    assert _household(app, kept).properties["address"] == "Nhà số 3"
    assert _household(app, absorbed).status == HouseholdStatus.ACTIVE
    with app.app_context():
        actions = [e.action for e in db.session.query(AuditEvent).order_by(AuditEvent.id)]
    assert actions[-2:] == ["duplicate.merge", "duplicate.undo"]


def test_d3_two_different_households_are_marked_distinct_and_a_second_decision_is_refused(
    app, full_site: Site, browser_of
):
    cases = full_site.cases
    browser = browser_of("official_a")
    url = f"/review/duplicates/{cases.case_id}"
    browser.get(url)
    browser.post(f"{url}/decision", {"decision": "distinct"})
    assert _case(app, cases.case_id).status == CaseStatus.DISTINCT
    assert 'id="merge"' not in browser.followed and 'id="undo"' in browser.followed
    answer = browser.post(f"{url}/decision", {"decision": "merge", "survivor": cases.twins[0]})
    assert answer.status_code == 302 and "flash error" in browser.followed
    assert _case(app, cases.case_id).status == CaseStatus.DISTINCT
    listed = browser.get("/review/duplicates?state=distinct").get_data(as_text=True)
    assert f'data-case="{cases.case_id}"' in listed
    assert 'data-case="' not in browser.get("/review/duplicates").get_data(as_text=True)


# -- exits -----------------------------------------------------------------------------------


def _today(app) -> dt.date:
    """Today where the server is (its time zone dates the commune's decisions)."""
    return dt.datetime.now(ZoneInfo(app.config["TIMEZONE"])).date()


def _exits(app) -> list[PovertyExit]:
    with app.app_context():
        found = db.session.query(PovertyExit).all()
        db.session.expunge_all()
        db.session.remove()
    return found


def _waiting(browser) -> list[str]:
    page = browser.get("/review/exits").get_data(as_text=True)
    return re.findall(r'data-household="([^"]+)"', page.split('id="decided"')[0])


def test_an_exit_from_near_poverty_is_listed_and_certified_with_the_decision_date(
    app, full_site: Site, browser_of
):
    cases = full_site.cases
    browser = browser_of("official_a")
    assert _waiting(browser) == [cases.exited]
    page = browser.get("/review/exits").get_data(as_text=True)
    assert "thoát cận nghèo" in page  # the standard's word for near-poor -> better
    today = _today(app).isoformat()
    browser.post(
        f"/review/exits/{cases.exited}/decision",
        {"decision": "certify", "version": "2", "decision_date": today},
    )
    assert "Đã công nhận thoát nghèo." in browser.followed
    (row,) = _exits(app)
    assert (row.household_id, row.version, row.decision) == (cases.exited, 2, "certified")
    assert (row.from_status, row.to_status, row.transition) == (
        "near_poor", "above", "escaped_near_poverty",
    )  # fmt: skip
    assert row.decision_date.isoformat() == today
    with app.app_context():
        assert row.decided_by_id == users.find("official_a").id
    assert _waiting(browser) == []
    dashboard = browser.get("/review").get_data(as_text=True)
    assert re.search(r'id="exits-certified".*?<span class="count">1<', dashboard, re.S)
    assert re.search(r'data-kind="exits">\s*<a[^>]*>\s*<span class="count">0', dashboard)


def test_a_decline_needs_a_reason_and_a_certificate_needs_a_date_not_in_the_future(
    app, full_site: Site, browser_of
):
    cases = full_site.cases
    browser = browser_of("official_a")
    browser.get("/review/exits")
    url = f"/review/exits/{cases.exited}/decision"
    browser.post(url, {"decision": "decline", "version": "2", "reason": " "})
    assert "Hãy ghi lý do không công nhận" in browser.followed
    tomorrow = (_today(app) + dt.timedelta(days=2)).isoformat()
    browser.post(url, {"decision": "certify", "version": "2", "decision_date": tomorrow})
    assert "Ngày quyết định phải từ ngày đánh giá" in browser.followed
    browser.post(url, {"decision": "certify", "version": "2"})
    assert "Hãy nhập ngày của quyết định" in browser.followed
    assert _exits(app) == []

    browser.post(url, {"decision": "decline", "version": "2", "reason": "Thu nhập chưa ổn định"})
    (row,) = _exits(app)
    assert (row.decision, row.reason, row.decision_date) == (
        ExitDecision.DECLINED, "Thu nhập chưa ổn định", None,
    )  # fmt: skip
    browser.post(url, {"decision": "certify", "version": "2", "decision_date": "2026-01-01"})
    assert len(_exits(app)) == 1, "an exit is decided once"
    with app.app_context():
        assert db.session.query(AuditEvent).filter_by(action="exit.decline").count() == 1


def test_a_newer_assessment_back_into_near_poverty_takes_the_exit_off_the_list(
    app, full_site: Site, browser_of
):
    cases = full_site.cases
    browser = browser_of("official_a")
    assert _waiting(browser) == [cases.exited]
    with app.app_context():
        again = visit(cases.exited, base_version=2, income__income_per_person="1100000")
        assert ingest.receive_xml(to_xml(again), user=users.find("cadre_a")).stored
        db.session.remove()
    assert _waiting(browser) == []
    browser.post(
        f"/review/exits/{cases.exited}/decision",
        {"decision": "certify", "version": "2", "decision_date": _today(app).isoformat()},
    )
    assert "hãy tải lại danh sách" in browser.followed and _exits(app) == []


def test_issue17_a_group_of_three_is_one_case_the_official_separates_one_and_merges_the_rest(
    app, full_site: Site, browser_of
):
    """A third registration of the twins joins their case; the page shows the three side by
    side, one is taken out (another household), the other two are merged."""
    from server.services.duplicates import cases as duplicate_cases
    from tests.integration.contract.submissions import household_id, registration

    cases = full_site.cases
    third = registration(head_name="Ca Van Nam", village="03325_02", head__phone="0911222333",
                         place__address="Nhà số 7")  # fmt: skip
    with app.app_context():
        receipt = ingest.receive_xml(to_xml(third), user=users.find("cadre_a"))
        assert receipt.stored, receipt
        db.session.remove()
    third_id = household_id(third)
    browser = browser_of("official_a")
    listed = browser.get("/review/duplicates").get_data(as_text=True)
    assert re.findall(r'data-case="(\d+)"', listed) == [str(cases.case_id)]
    assert "3 hộ" in listed
    url = f"/review/duplicates/{cases.case_id}"
    body = browser.get(url).get_data(as_text=True)
    comparison = body.split('id="comparison"')[1].split("</table>")[0]
    assert len(re.findall(r'name="survivor"', comparison)) == 3
    assert "Nhà số 3" in comparison and "Nhà số 5" in comparison and "Nhà số 7" in comparison
    assert len(re.findall(r'name="keep:address"', comparison)) == 3
    browser.post(f"{url}/decision", {"decision": "separate", "household": third_id})
    assert "Đã tách hộ ra khỏi nhóm." in browser.followed
    with app.app_context():
        case = db.session.get(DuplicateCase, cases.case_id)
        assert duplicate_cases.group_of(case) == sorted(cases.twins)
        assert duplicate_cases.separated_from(case) == [third_id]
        db.session.remove()
    kept, absorbed = cases.twins
    browser.post(f"{url}/decision", {"decision": "merge", "survivor": kept})
    assert "Đã gộp hai hộ." in browser.followed
    assert _household(app, absorbed).merged_into_id == kept
    assert _household(app, third_id).status == HouseholdStatus.ACTIVE
