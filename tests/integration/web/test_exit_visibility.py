"""An exit claimed while the household has a conflict (issue 20, point 5): the poverty status
is derived from the merged values (H6), so while incomes conflict it reads the provisional
one (H4: the latest by device time) and the household keeps its old status; the exits page
still shows the claim, before anyone resolves the conflict, and certifying it is possible
once they do."""

from __future__ import annotations

import re

from forms.instance import to_xml
from server.db import db
from server.models import Household
from server.services.access import users
from server.services.receiving import ingest
from tests.integration.contract.submissions import visit
from tests.integration.web.site import Site


def _rows(body: str, table: str) -> list[str]:
    if f'id="{table}"' not in body:
        return []
    part = body.split(f'id="{table}"')[1].split("</table>")[0]
    return re.findall(r'data-household="([^"]+)"', part)


def test_an_exit_claimed_during_a_conflict_is_listed_before_the_conflict_is_resolved(
    app, full_site: Site, browser_of
):
    hid = full_site.cases.conflicted  # two offline visits disagree on the income
    claim = visit(
        hid,
        base_version=1,  # a third tablet, offline since the registration
        start="2026-02-28T08:00:00.000+07:00",  # earlier: its income is not the provisional
        end="2026-02-28T08:40:00.000+07:00",
        income__income_per_person="4500000",
        exit__exit_claimed="yes",
        exit__exit_evidence="Bán được 2 con bò",
    )
    with app.app_context():
        assert ingest.receive_xml(to_xml(claim), user=users.find("cadre_a")).stored
        db.session.commit()
        household = db.session.get(Household, hid)
        assert household.open_conflicts == 2  # the income, and exit_claimed (yes / no)
        assert household.properties["poverty_status"] == "near_poor"  # derived, provisional
        db.session.remove()

    browser = browser_of("official_a")
    body = browser.get("/review/exits").get_data(as_text=True)
    assert _rows(body, "held-exits") == [hid]
    assert hid not in _rows(body, "exits")  # not certifiable while the status is provisional
    held = body.split('id="held-exits"')[1].split("</table>")[0]
    assert "hộ có mức sống trên trung bình" in held  # the status the visit assessed
    assert "tự đánh giá đã thoát nghèo" in held

    # The official chooses the claimed income: the exit moves to the certification list.
    browser.get(f"/review/households/{hid}")
    chosen = {"value:income_per_person": "4500000", "value:exit_claimed": "yes"}
    browser.post(f"/review/households/{hid}/resolution", chosen)
    body = browser.get("/review/exits").get_data(as_text=True)
    assert hid in _rows(body, "exits") and _rows(body, "held-exits") == []


def test_a_conflict_without_an_exit_claim_is_not_listed_as_one(app, full_site: Site, browser_of):
    body = browser_of("official_a").get("/review/exits").get_data(as_text=True)
    assert full_site.cases.conflicted not in _rows(body, "held-exits")
