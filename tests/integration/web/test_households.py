"""The household pages of the review site: the households list, a household's page (record,
poverty status per year, versions, visits, support, cadres) and the resolution of its
conflicting edits (H3) through the households service."""

from __future__ import annotations

import re

from server.db import db
from server.models import AuditEvent, Household, HouseholdConflict
from server.services.access import users
from server.services.review import pages
from tests.integration.web.site import Site


def _household(app, household_id: str) -> Household:
    with app.app_context():
        found = db.session.get(Household, household_id)
        db.session.expunge(found)
        db.session.remove()
    return found


def _listed(browser, **query) -> list[str]:
    page = browser.get("/review/households", query_string=query).get_data(as_text=True)
    return re.findall(r'data-household="([^"]+)"', page)


def test_h3_the_household_page_shows_both_conflicting_values_side_by_side(
    app, full_site: Site, browser_of
):
    cases = full_site.cases
    page = browser_of("official_a").get(f"/review/households/{cases.conflicted}")
    body = page.get_data(as_text=True)
    assert page.status_code == 200
    conflict = body.split('id="conflicts"')[1].split("</section>")[0]
    assert 'data-property="income_per_person"' in conflict
    values = re.findall(r'name="value:income_per_person" value="(\d+)"', conflict)
    assert sorted(values[:2]) == ["1300000", "1400000"]  # both edits side by side,
    assert values[2:] == ["1200000"]  # then the value before them
    for instance in cases.visits[:2]:  # each value links to the submission that sent it
        assert f"/review/submissions/{instance}" in conflict


def test_h3_an_official_resolves_a_conflict_and_the_household_gets_a_new_version(
    app, full_site: Site, browser_of
):
    cases = full_site.cases
    before = _household(app, cases.conflicted)
    shown = before.properties["income_per_person"]  # one of the two, until someone decides
    assert before.open_conflicts == 1 and shown in ("1300000", "1400000")
    chosen = "1300000" if shown == "1400000" else "1400000"
    browser = browser_of("official_a")
    browser.get(f"/review/households/{cases.conflicted}")
    answer = browser.post(
        f"/review/households/{cases.conflicted}/resolution", {"value:income_per_person": chosen}
    )
    assert answer.status_code == 302
    assert "Đã giải quyết mâu thuẫn" in browser.followed
    assert 'id="conflicts"' not in browser.followed

    after = _household(app, cases.conflicted)
    assert after.version == before.version + 1 and after.open_conflicts == 0
    assert after.properties["income_per_person"] == chosen and not after.flagged
    with app.app_context():
        conflict = db.session.query(HouseholdConflict).filter_by(household_id=after.id).one()
        assert conflict.resolved_by_id == users.find("official_a").id
        event = db.session.query(AuditEvent).filter_by(action="household.resolve").one()
        assert event.details["values"] == {"income_per_person": chosen}
    versions = browser.followed.split('id="versions"')[1]
    assert "quyết định giải quyết mâu thuẫn" in versions and "Official_A" in versions


def test_h3_a_typed_value_wins_over_the_choices_and_an_empty_form_changes_nothing(
    app, full_site: Site, browser_of
):
    cases = full_site.cases
    browser = browser_of("official_a")
    browser.get(f"/review/households/{cases.conflicted}")
    browser.post(f"/review/households/{cases.conflicted}/resolution", {})
    assert "Hãy chọn giá trị giữ lại" in browser.followed
    assert _household(app, cases.conflicted).open_conflicts == 1
    browser.post(
        f"/review/households/{cases.conflicted}/resolution",
        {"value:income_per_person": "1300000", "other:income_per_person": "1350000"},
    )
    assert _household(app, cases.conflicted).properties["income_per_person"] == "1350000"


def test_the_household_page_shows_poverty_by_year_versions_visits_support_and_cadres(
    app, full_site: Site, browser_of
):
    cases = full_site.cases
    page = browser_of("official_a").get(f"/review/households/{cases.exited}")
    body = page.get_data(as_text=True)
    assert "Lò Thị Sáu" in body
    years = body.split('id="poverty-years"')[1].split("</table>")[0]
    assert "hộ có mức sống trên trung bình" in years and "giai đoạn 2022–2026" in years
    versions = body.split('id="versions"')[1].split("</table>")[0]
    change = "<del>hộ cận nghèo</del> → <ins>hộ có mức sống trên trung bình</ins>"
    assert change in versions
    assert f"/review/submissions/{cases.visits[2]}" in versions  # from which submission
    support = body.split('id="support"')[1].split("</table>")[0]
    assert "Vật nuôi" in support and "Ngân hàng Chính sách xã hội" in support
    assert "2 con" in support and "6.000.000" in support
    visits = body.split('id="visits"')[1].split("</table>")[0]
    assert len(re.findall(r"data-instance=", visits)) == 2  # the registration and the visit
    assert "Cadre_A" in body.split('id="cadres"')[1].split("</table>")[0]


def test_the_households_list_filters_by_village_status_poverty_flag_and_name_and_pages(
    app, full_site: Site, browser_of, monkeypatch
):
    cases = full_site.cases
    browser = browser_of("official_a")
    everyone = _listed(browser)
    assert len(everyone) == 6 and set(everyone) >= {cases.conflicted, cases.exited}
    assert _listed(browser, conflicts="1") == [cases.conflicted]
    assert _listed(browser, flagged="1") == [cases.conflicted]
    assert _listed(browser, poverty="above") == [cases.exited]
    assert set(_listed(browser, q="cà văn")) == set(cases.twins)
    with app.app_context():
        village_2 = db.session.get(Household, cases.twins[0]).village_id
    assert set(_listed(browser, village=village_2)) == {full_site.households_a[1], *cases.twins}
    assert _listed(browser, status="merged") == []
    monkeypatch.setattr(pages, "PAGE_SIZE", 4)
    first, second = _listed(browser, page=1), _listed(browser, page=2)
    assert len(first) == 4 and len(second) == 2 and set(first + second) == set(everyone)
    assert _listed(browser_of("official_b")) == [_household_b(app, full_site)]


def _household_b(app, site: Site) -> str:
    with app.app_context():
        found = db.session.query(Household.id).filter_by(commune_id=site.commune_b_id).one()
        db.session.remove()
    return found[0]


def test_the_dashboard_tiles_of_conflicts_duplicates_and_exits_link_to_their_pages(
    app, full_site: Site, browser_of
):
    page = browser_of("official_a").get("/review").get_data(as_text=True)
    for kind, link in (
        ("conflicts", f"/review/households?commune={full_site.commune_a_id}&amp;conflicts=1"),
        ("duplicates", f"/review/duplicates?commune={full_site.commune_a_id}"),
        ("exits", f"/review/exits?commune={full_site.commune_a_id}"),
    ):
        tile = re.search(
            rf'data-kind="{kind}">\s*<a href="([^"]+)">\s*<span class="count">(\d+)', page
        )
        assert tile is not None, kind
        assert (tile.group(1), tile.group(2)) == (link, "1"), kind
    other = browser_of("official_b").get("/review").get_data(as_text=True)
    assert re.search(r'data-kind="conflicts">\s*<a[^>]*>\s*<span class="count">0', other)


def test_the_household_record_speaks_words_in_sections_not_property_names(
    full_site: Site, browser_of
):
    """Issue 20, point 3: every label and value in words (the visit's `exit_claimed` named by
    the visit form, yes/no, deprivations, money, dates), grouped in sections."""
    page = browser_of("official_a").get(f"/review/households/{full_site.cases.exited}")
    record = page.get_data(as_text=True).split('id="record"')[1].split("</section>")[0]
    cells = re.findall(r"<td>([^<]*)</td>", record)
    labels, values = cells[0::2], cells[1::2]
    for raw in (
        "exit_claimed",
        "hh_size",
        "assessment_date",
        "poverty_standard",
        "ethnic_minority",
    ):
        assert raw not in labels
    assert not {"yes", "no", "vn-2022-2026"} & set(values)
    rows = dict(zip(labels, values, strict=True))
    assert rows["Hộ có tự đánh giá đã thoát nghèo không?"] in ("Có", "Không")
    assert rows["Hộ dân tộc thiểu số"] == "Có"
    assert rows["Số nhân khẩu hiện nay"].isdigit()
    assert rows["Thu nhập bình quân đầu người mỗi tháng (đồng)"] == "4.500.000 đ"
    assert rows["Ngày rà soát"] == "01/03/2026"
    assert rows["Chuẩn nghèo áp dụng"] == "Chuẩn nghèo đa chiều giai đoạn 2022–2026"
    sections = re.findall(r"<h3>([^<]+)</h3>", record)
    assert sections[:3] == ["Chủ hộ và hộ gia đình", "Địa bàn", "Thu nhập và phân loại"]
    assert "Thăm hộ và thoát nghèo" in sections
    # The deprivation indicators are the checklist's, not rows of 0 and 1 here.
    assert "Việc làm" not in labels
