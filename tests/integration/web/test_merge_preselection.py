"""Merging two registrations of one household (issue 20, point 4): the comparison page
pre-selects, property by property, the most complete and most recent value (the name with
its accents over one typed without, a CCCD and a GPS point over none), and the most complete
household to survive, whichever side the case lists first."""

from __future__ import annotations

import re

import sqlalchemy as sa

from forms.instance import to_xml
from server.db import db
from server.models import DuplicateCaseMember
from server.services.access import users
from server.services.receiving import ingest
from tests.integration.contract.submissions import household_id, registration
from tests.integration.web.site import Site


def test_merge_preselects_the_accented_name_the_cccd_and_the_gps_point(
    app, full_site: Site, browser_of
):
    bare = registration(head_name="Tong Van Phong", village="03325_02", head__phone="0944555666")
    full = registration(
        head_name="Tòng Văn Phong", village="03325_02", head__phone="0944555666",
        head__head_cccd="011080654321", house__house_location="21.36 103.03 900 5",
    )  # fmt: skip
    with app.app_context():
        cadre = users.find("cadre_a")
        for root in (full, bare):  # the bare one last, the newer: it raises the case, listed first
            assert ingest.receive_xml(to_xml(root), user=cadre).stored
        db.session.commit()
        case_id = db.session.scalar(
            sa.select(DuplicateCaseMember.case_id).where(
                DuplicateCaseMember.household_id == household_id(full)
            )
        )
        assert case_id is not None, "the two registrations opened no duplicate case"
        db.session.remove()
    body = browser_of("official_a").get(f"/review/duplicates/{case_id}").get_data(as_text=True)
    checked = dict(re.findall(r'name="keep:([a-z_]+)" value="([^"]+)" checked', body))
    assert checked["head_name"] == household_id(full)
    assert checked["head_cccd"] == household_id(full)
    assert checked["geometry"] == household_id(full)
    survivor = re.search(r'name="survivor" value="([^"]+)" checked', body).group(1)
    assert survivor == household_id(full)


def test_the_preferred_value_is_present_then_accented_then_most_recent():
    import datetime as dt

    from server.services.duplicates.cases import preferred_side, preferred_value

    old, new = (
        {"updated_at": dt.datetime(2026, 1, d, tzinfo=dt.UTC), "properties": {}} for d in (1, 2)
    )
    assert preferred_value(["Tong Van Phong", "Tòng Văn Phong"], [new, old]) == 1  # accents
    assert preferred_value(["", "011080654321"], [new, old]) == 1  # a CCCD over none
    assert preferred_value([None, "21.36 103.03 900 5"], [new, old]) == 1  # GPS over none
    assert preferred_value(["1200000", "1300000"], [old, new]) == 1  # then the most recent
    assert preferred_value(["1200000", "1300000"], [new, old]) == 0
    assert preferred_value(["", None], [new, old]) is None
    fuller = {**old, "properties": {"head_name": "A", "head_cccd": "011080654321"}}
    assert preferred_side([{**new, "properties": {"head_name": "A", "head_cccd": ""}}, fuller]) == 1
