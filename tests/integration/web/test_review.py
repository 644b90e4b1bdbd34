"""Review on the site: decisions, a return that reaches the cadre (JSON pull and ODK Collect's
household list), a reviewer's correction as a new version (R4), the dashboard, the queue and
the submission page."""

from __future__ import annotations

import csv
import io
import re

from forms.instance import to_xml
from server.db import db
from server.models import AuditEvent, Household, ReviewState, Submission
from server.services.access import users
from server.services.receiving import ingest
from server.services.review import pages
from tests.integration.contract.submissions import (
    household_id,
    instance_id,
    registration,
    visit_form,
)
from tests.integration.contract.tablet import Tablet, settle
from tests.integration.web.site import PHOTO, Site

OPENROSA = {"X-OpenRosa-Version": "1.0"}


def _submission(app, iid: str) -> Submission:
    with app.app_context():
        found = db.session.query(Submission).filter_by(instance_id=iid).one()
        db.session.expunge(found)
        db.session.remove()
    return found


def _tablet(app, site: Site, username: str = "cadre_a") -> Tablet:
    return Tablet(app.test_client(), site.world.tokens[username], settle=lambda: settle(app))


def _entity_list(app, site: Site, username: str = "cadre_a") -> list[dict]:
    form = visit_form()
    path = f"/key/{site.world.tokens[username]}/forms/{form.form_id}/versions/{form.version}"
    response = app.test_client().get(f"{path}/media/households.csv", headers=OPENROSA)
    assert response.status_code == 200
    return list(csv.DictReader(io.StringIO(response.get_data(as_text=True))))


def _returns(tablet: Tablet) -> list[tuple]:
    return [
        (c["id"], c["op"], (c["data"] or {}).get("comment"))
        for page in tablet.pages
        for c in page
        if c["kind"] == "review_return"
    ]


def test_a_returned_submission_reaches_the_cadres_tablet_and_collects_household_list(
    app, site, browser_of
):
    tablet, other = _tablet(app, site).sync(), _tablet(app, site, "cadre_b").sync()
    browser = browser_of("official_a")
    browser.get(f"/review/submissions/{site.a[0]}")
    answer = browser.post(
        f"/review/submissions/{site.a[0]}/decision",
        {"decision": "return", "comment": "Ảnh nhà bị mờ, chụp lại giúp"},
    )
    assert answer.status_code == 302

    tablet.sync()
    assert _returns(tablet) == [(site.a[0], "upsert", "Ảnh nhà bị mờ, chụp lại giúp")]
    assert _returns(other.sync()) == []
    rows = {r["name"]: r for r in _entity_list(app, site)}
    assert rows[site.households_a[0]]["review_comment"] == "Ảnh nhà bị mờ, chụp lại giúp"
    assert rows[site.households_a[1]]["review_comment"] == ""
    assert "review_comment" not in _entity_list(app, site, "cadre_b")[0]

    # Approved after all: the tablet drops the return, and so does the household list.
    browser.post(f"/review/submissions/{site.a[0]}/decision", {"decision": "approve"})
    tablet.sync()
    assert _returns(tablet)[-1] == (site.a[0], "delete", None)
    assert "review_comment" not in _entity_list(app, site)[0]


def test_a_return_needs_a_comment_and_says_so(app, site, browser_of):
    browser = browser_of("official_a")
    browser.get(f"/review/submissions/{site.a[0]}")
    browser.post(f"/review/submissions/{site.a[0]}/decision", {"decision": "return"})
    assert "Hãy ghi nhận xét cho cán bộ" in browser.followed
    assert _submission(app, site.a[0]).review_state == ReviewState.RECEIVED


def test_every_decision_is_audited_and_shown_in_the_history(app, site, browser_of):
    browser = browser_of("official_a")
    url = f"/review/submissions/{site.a[1]}"
    browser.get(url)
    for decision, state in (("has_issues", "has_issues"), ("reject", "rejected"),
                            ("approve", "approved")):  # fmt: skip
        browser.post(f"{url}/decision", {"decision": decision, "comment": f"vì {decision}"})
        assert _submission(app, site.a[1]).review_state == ReviewState(state)
    with app.app_context():
        actions = [
            (e.action, e.details.get("to"), e.actor_id)
            for e in db.session.query(AuditEvent)
            .filter_by(target_type="submissions")
            .order_by(AuditEvent.id)
            if e.action != "submission.receive"
            and e.target_id == str(_submission(app, site.a[1]).id)
        ]
        official = users.find("official_a").id
    assert actions == [
        ("submission.mark_issues", "has_issues", official),
        ("submission.reject", "rejected", official),
        ("submission.approve", "approved", official),
    ]
    history = browser.get(url).get_data(as_text=True).split('id="history"')[1]
    assert history.index("đánh dấu có vấn đề") < history.index("từ chối") < history.index("duyệt")
    assert "vì reject" in history and "Official_A" in history


def test_a_reviewers_correction_is_a_new_version_of_the_record_r4(app, site, browser_of):
    browser = browser_of("official_a")
    browser.get(f"/review/submissions/{site.a[1]}")
    made = browser.post(
        f"/review/submissions/{site.a[1]}/correction",
        {"path": "/data/head/head_name", "value": "Quàng Thị Hài", "comment": "sai dấu"},
    )
    new_id = made.headers["Location"].rsplit("/", 1)[1]

    old, new = _submission(app, site.a[1]), _submission(app, new_id)
    assert old.superseded and not new.superseded
    assert (new.deprecated_id, new.root_id) == (site.a[1], old.root_id)
    with app.app_context():
        household = db.session.get(Household, site.households_a[1])
        assert household.properties["head_name"] == "Quàng Thị Hài" and household.version == 2
    page = browser.get(f"/review/submissions/{new_id}").get_data(as_text=True)
    assert "Quàng Thị Hài" in page and "sai dấu" in page  # the correction is in the history
    superseded = browser.get(f"/review/submissions/{site.a[1]}").get_data(as_text=True)
    assert "đã được thay bằng bản sửa" in superseded and 'name="decision"' not in superseded
    browser.post(f"/review/submissions/{site.a[1]}/decision", {"decision": "approve"})
    assert "hãy mở bản hiện tại" in browser.followed  # decisions go to the current version
    assert _submission(app, site.a[1]).review_state == ReviewState.RECEIVED


def _tile(page: str, kind: str) -> int:
    found = re.search(rf'data-kind="{kind}">\s*<a[^>]*>\s*<span class="count">(\d+)', page)
    return int(found.group(1))


def test_the_dashboard_counts_what_waits_households_by_status_and_visits_by_cadre(
    app, site, browser_of
):
    page = browser_of("official_a").get("/review").get_data(as_text=True)
    assert (_tile(page, "received"), _tile(page, "has_issues"), _tile(page, "quarantine")) == (
        2, 0, 1,
    )  # fmt: skip
    poverty = page.split('id="poverty"')[1]
    assert re.search(
        r'data-status="near_poor">\s*<td>hộ cận nghèo</td>\s*<td class="num">2<', poverty
    )
    visits = page.split('id="visits"')[1]
    assert re.search(r"Cadre_A</a></td>\s*<td class=\"num\">0</td><td class=\"num\">2<", visits)

    other = browser_of("official_b").get("/review").get_data(as_text=True)
    assert (_tile(other, "received"), _tile(other, "quarantine")) == (1, 0)
    assert "Cadre_A" not in other


def test_the_queue_filters_by_state_village_cadre_form_and_date_and_pages(
    app, site, browser_of, monkeypatch
):
    browser = browser_of("official_a")
    with app.app_context():
        village_2 = db.session.get(Submission, _submission(app, site.a[1]).id).village_id
        cadre = users.find("cadre_a").id

    def listed(**query) -> list[str]:
        page = browser.get("/review/submissions", query_string=query).get_data(as_text=True)
        return re.findall(r'data-instance="([^"]+)"', page)

    assert set(listed()) == set(site.a)
    assert listed(village=village_2) == [site.a[1]]
    assert set(listed(cadre=cadre, form="giupho_household_registration")) == set(site.a)
    assert listed(state="approved") == [] and set(listed(state="received")) == set(site.a)
    assert listed(**{"from": "2000-01-01", "to": "2000-12-31"}) == []
    monkeypatch.setattr(pages, "PAGE_SIZE", 1)
    first, second = listed(page=1), listed(page=2)
    assert len(first) == len(second) == 1 and set(first + second) == set(site.a)


def test_the_submission_page_shows_labels_in_the_chosen_language_issues_photo_and_gps(
    app, site, browser_of
):
    with app.app_context():  # a registration that breaks its form (R6): a birth year of 1800
        broken = registration(
            head_name="Lầu A Tủa", village="03325_01", head__head_birth_year="1800"
        )
        receipt = ingest.receive_xml(to_xml(broken), user=users.find("cadre_a"))
        assert receipt.result == "invalid"
    browser = browser_of("official_a")
    page = browser.get(f"/review/submissions/{instance_id(broken)}").get_data(as_text=True)
    assert "Họ và tên chủ hộ" in page and "Lầu A Tủa" in page
    assert 'class="depth1 has-issue" data-path="/data/head/head_birth_year"' in page
    assert 'id="issues"' in page

    photo_page = browser.get(f"/review/submissions/{site.a[0]}").get_data(as_text=True)
    assert "21.35000, 103.02000" in photo_page and "sai số 5.0 m" in photo_page
    photo = browser.get(f"/review/submissions/{site.a[0]}/files/nha.jpg")
    assert photo.status_code == 200 and photo.data == PHOTO
    assert photo.headers["X-Content-Type-Options"] == "nosniff"

    browser.post("/language", {"lang": "en", "next": f"/review/submissions/{site.a[0]}"})
    english = browser.get(f"/review/submissions/{site.a[0]}").get_data(as_text=True)
    assert "Approve" in english and "Return to the cadre" in english
    assert "Họ và tên chủ hộ" not in english and '<html lang="en">' in english
    assert household_id(broken)  # the broken registration was stored, not applied


def test_r6_a_submission_with_issues_changes_its_household_once_approved(app, site, browser_of):
    """R6: stored, not applied until a reviewer accepts it; then applied as on arrival."""
    broken = registration(head_name="Lò Thị Lan", head__phone="12345")  # breaks its constraint
    with app.app_context():
        receipt = ingest.receive_xml(to_xml(broken), user=users.find("cadre_a"))
        assert receipt.result == "invalid" and receipt.review_state == "has_issues"
        assert db.session.get(Household, household_id(broken)) is None  # not applied
        db.session.remove()

    browser = browser_of("official_a")
    browser.post(f"/review/submissions/{instance_id(broken)}/decision", {"decision": "approve"})
    browser.post(f"/review/submissions/{instance_id(broken)}/decision", {"decision": "approve"})

    with app.app_context():
        household = db.session.get(Household, household_id(broken))
        assert household is not None and household.version == 1  # applied once, not twice
        assert household.properties["phone"] == "12345"
        assert _submission(app, instance_id(broken)).review_state == ReviewState.APPROVED


def _approvals(app, iid: str) -> int:
    with app.app_context():
        sid = str(_submission(app, iid).id)
        return (
            db.session.query(AuditEvent)
            .filter_by(target_type="submissions", target_id=sid, action="submission.approve")
            .count()
        )


def test_a_correction_breaking_a_constraint_is_refused_with_the_issue_and_the_input_kept(
    app, site, browser_of
):
    """Issue 13, finding 9: a correction is validated like a submission (the form's
    constraint here); refused with the field's issue in the reviewer's language, the typed
    value still on the page, nothing saved."""
    browser = browser_of("official_a")
    url = f"/review/submissions/{site.a[1]}"
    browser.get(url)
    refused = browser.post(
        f"{url}/correction",
        {"path": "/data/head/phone", "value": "12345", "comment": "số mới"},
    )
    assert refused.status_code == 422
    page = refused.get_data(as_text=True)
    assert page.count("Số điện thoại gồm 10 hoặc 11 chữ số, bắt đầu bằng 0.") >= 2  # flash, field
    assert 'value="12345"' in page and 'value="số mới"' in page  # what the reviewer typed
    assert '<details class="correct" open>' in page
    old = _submission(app, site.a[1])
    assert not old.superseded and old.review_state == ReviewState.RECEIVED
    with app.app_context():
        assert db.session.query(Submission).filter_by(root_id=old.root_id).count() == 1
        household = db.session.get(Household, site.households_a[1])
        assert household.properties["phone"] == "0912345678" and household.version == 1
        assert db.session.query(AuditEvent).filter_by(action="submission.correct").count() == 0

    # A valid correction of the same answer is still saved.
    made = browser.post(f"{url}/correction", {"path": "/data/head/phone", "value": "0987654321"})
    assert made.status_code == 302
    with app.app_context():
        household = db.session.get(Household, site.households_a[1])
        assert household.properties["phone"] == "0987654321" and household.version == 2


def test_a_decision_taken_twice_is_one_history_entry_and_a_stale_one_is_refused(
    app, site, browser_of
):
    """Issue 13, finding 9: a double click on "Approve" (both posts saw "received") approves
    once; a reviewer who saw "received" while another rejected meanwhile is told, not obeyed."""
    browser = browser_of("official_a")
    url = f"/review/submissions/{site.a[0]}"
    browser.get(url)
    for _ in range(2):
        browser.post(f"{url}/decision", {"decision": "approve", "seen": "received"})
        assert "Đã lưu quyết định" in browser.followed
    assert _approvals(app, site.a[0]) == 1
    browser.post(f"{url}/decision", {"decision": "return", "seen": "approved", "comment": "x"})
    browser.post(f"{url}/decision", {"decision": "return", "seen": "approved", "comment": "x"})
    assert _submission(app, site.a[0]).review_state == ReviewState.RETURNED
    with app.app_context():
        sid = str(_submission(app, site.a[0]).id)
        returns = db.session.query(AuditEvent).filter_by(target_id=sid, action="submission.return")
        assert returns.count() == 1

    browser.post(f"{url}/decision", {"decision": "reject", "seen": "approved"})
    assert "Người duyệt khác đã quyết định" in browser.followed
    assert _submission(app, site.a[0]).review_state == ReviewState.RETURNED
