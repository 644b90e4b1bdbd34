"""The visit form's support repeat becomes ledger entries, over both protocols and the batch.

Each repeat instance is one `SupportEntry` in the transaction that stores the visit: a
resend counts nothing twice, an edit's entries replace its predecessor's in
`ledger.live_entries`, a rejected visit's stop counting.
"""

from __future__ import annotations

import datetime as dt

import sqlalchemy as sa

from server.db import db
from server.models import ReviewState, Submission, SupportEntry, User
from server.models.support import SupportKind, SupportSource
from server.services.programme import ledger
from tests.integration.contract.drivers import answers_item
from tests.integration.contract.submissions import edit_of, household_id, registration, visit
from tests.integration.helpers import bearer

BOOKS = {
    "support_kind": "books",
    "support_quantity": "3",
    "support_value": "450000",
    "support_source": "organisation",
    "support_giver": "Hội Khuyến học xã",
    "support_pupils": "2",
}
CATTLE = {
    "support_kind": "cattle",
    "support_quantity": "1",
    "support_value": "15000000",
    "support_source": "cadre",
    "support_date": "2026-02-20",
}
LOAN = {
    "support_kind": "loan_capital",
    "support_value": "20000000",
    "support_source": "business",
    "support_giver": "Công ty Cà phê Mường Phăng",
}


def entries(app, *, live: bool = False) -> list[dict]:
    """Every entry (or only those that count), as plain values, in order."""
    with app.app_context():
        stmt = ledger.live_entries() if live else sa.select(SupportEntry)
        rows = db.session.scalars(
            stmt.order_by(SupportEntry.submission_id, SupportEntry.item_index)
        )
        return [
            {
                "kind": e.kind.code,
                "quantity": e.quantity,
                "unit": e.unit,
                "value": e.value_vnd,
                "pupils": e.pupils,
                "given_on": e.given_on,
                "source": SupportSource(e.source_type).value,
                "source_user": db.session.get(User, e.source_user_id).username
                if e.source_user_id
                else None,
                "source_name": e.source_name,
                "household": e.household_id,
                "commune": e.commune_id is not None,
                "submission": e.submission_id,
                "item": e.item_index,
                "recorded_by": db.session.get(User, e.recorded_by_id).username,
            }
            for e in rows
        ]


def test_each_support_instance_of_a_visit_is_one_entry_of_its_kind(driver, records, app):
    home = registration()
    driver.submit(home)
    hid = household_id(home)

    sent = visit(hid, support=[BOOKS, CATTLE, LOAN])
    assert driver.submit(sent).means("accepted")

    submission = records.submission(sent.child("meta").child("instanceID").text)
    got = entries(app)
    assert [(e["kind"], e["quantity"], e["unit"], e["value"]) for e in got] == [
        ("books", 3.0, "set", 450000),
        ("cattle", 1.0, "head", 15000000),
        ("loan_capital", None, "vnd", 20000000),
    ]
    books, cattle, loan = got
    assert books["pupils"] == 2 and cattle["pupils"] is None
    assert books["given_on"] == dt.date(2026, 3, 1)  # the visit's day when none is given
    assert cattle["given_on"] == dt.date(2026, 2, 20)
    assert (books["source"], books["source_name"]) == ("organisation", "Hội Khuyến học xã")
    assert (cattle["source"], cattle["source_user"]) == ("cadre", "cadre_a")
    assert (loan["source"], loan["source_name"]) == ("business", "Công ty Cà phê Mường Phăng")
    assert {e["household"] for e in got} == {hid} and all(e["commune"] for e in got)
    assert {(e["submission"], e["recorded_by"]) for e in got} == {(submission.id, "cadre_a")}
    assert [e["item"] for e in got] == [0, 1, 2]


def test_a_resent_visit_counts_once(driver, records, app):
    home = registration()
    driver.submit(home)
    sent = visit(household_id(home), support=[BOOKS])
    driver.submit(sent)

    assert driver.submit(sent).means("duplicate")
    assert driver.resend_reformatted(sent).means("duplicate")

    assert len(entries(app)) == 1


def test_an_edit_writes_its_own_entries_and_the_old_ones_stop_counting(driver, records, app):
    home = registration()
    driver.submit(home)
    sent = visit(household_id(home), support=[BOOKS, CATTLE])
    driver.submit(sent)

    edited = edit_of(sent)
    edited.find("support").find("support_quantity").text = "5"  # books: 5 sets, not 3
    assert driver.submit(edited).means("accepted")

    assert len(entries(app)) == 4  # nothing is deleted
    live = entries(app, live=True)
    edit = records.submission(edited.child("meta").child("instanceID").text)
    assert [(e["kind"], e["quantity"], e["submission"]) for e in live] == [
        ("books", 5.0, edit.id),
        ("cattle", 1.0, edit.id),
    ]


def test_a_rejected_visit_stops_counting(driver, records, app):
    home = registration()
    driver.submit(home)
    sent = visit(household_id(home), support=[CATTLE])
    driver.submit(sent)
    assert len(entries(app, live=True)) == 1

    with app.app_context():
        submission = db.session.scalar(
            sa.select(Submission)
            .where(Submission.submitter_id.is_not(None))
            .order_by(Submission.id.desc())
        )
        submission.review_state = ReviewState.REJECTED
        db.session.commit()

    assert entries(app, live=True) == [] and len(entries(app)) == 1


def test_old_visit_codes_count_under_catalogue_kinds(driver, records, app):
    """Visits of earlier form versions said livestock, capital, scholarship...: none is lost."""
    home = registration()
    driver.submit(home)
    with app.app_context():
        old = [
            {"support_kind": "livestock", "support_quantity": "2", "support_unit": "head",
             "support_value": "6000000", "support_giver": "Ngân hàng Chính sách xã hội"},
            {"support_kind": "capital", "support_quantity": "10000000", "support_unit": "vnd",
             "support_value": "10000000"},
            {"support_kind": "scholarship", "support_quantity": "1", "support_unit": "item",
             "support_value": "500000"},
            {"support_kind": "mystery", "support_quantity": "1", "support_unit": "item",
             "support_value": "1"},
        ]  # fmt: skip
        cadre = db.session.scalar(sa.select(User).where(User.username == "cadre_a"))
        rows = ledger.form_entry_rows(
            {"today": "2025-06-01", "support": old},
            submission_id=None,
            submitter=cadre,
            household_id=household_id(home),
            commune_id=None,
            village_id=None,
        )
        kinds = {k.id: k.code for k in db.session.scalars(sa.select(SupportKind))}
    got = [(kinds[r["kind_id"]], r["unit"], r["quantity"], r["kind_other"]) for r in rows]
    assert got == [
        ("livestock", "head", 2.0, None),
        ("loan_capital", "vnd", 10000000.0, None),
        ("scholarship", "item", 1.0, None),  # the unit it was counted in is kept
        ("other", "item", 1.0, "mystery"),
    ]
    assert {r["source_type"] for r in rows} == {SupportSource.OTHER}
    assert rows[0]["source_name"] == "Ngân hàng Chính sách xã hội"


def test_a_push_batch_writes_every_visits_entries_in_one_go(client, world, app):
    """The batch path (several independent visits in one push) writes the same entries."""
    headers = bearer(world.tokens["cadre_a"])
    homes = [registration() for _ in range(3)]
    pushed = client.post(
        "/api/v1/sync/push", json={"items": [answers_item(h) for h in homes]}, headers=headers
    )
    assert pushed.status_code == 200
    visits = [visit(household_id(h), support=[BOOKS, LOAN]) for h in homes]
    items = [answers_item(v) for v in visits]

    first = client.post("/api/v1/sync/push", json={"items": items}, headers=headers)
    again = client.post("/api/v1/sync/push", json={"items": items}, headers=headers)

    assert [r["result"] for r in first.get_json()["results"]] == ["accepted"] * 3
    assert [r["result"] for r in again.get_json()["results"]] == ["duplicate"] * 3
    got = entries(app, live=True)
    assert len(got) == 6
    assert {e["household"] for e in got} == {household_id(h) for h in homes}
    assert sorted(e["kind"] for e in got) == ["books"] * 3 + ["loan_capital"] * 3


def test_visits_stored_before_the_ledger_get_their_entries_once_after_an_upgrade(
    driver, records, app, runner
):
    """An install upgraded from before the ledger holds visits whose support is only in their
    answers: `giupho support backfill` (and `giupho run`) writes their entries, and running it
    again writes nothing twice."""
    from server.cli import main

    home = registration()
    driver.submit(home)
    hid = household_id(home)
    driver.submit(visit(hid, support=[BOOKS, CATTLE]))
    driver.submit(visit(hid, support=[LOAN]))
    before = entries(app)
    with app.app_context():  # what an install upgraded from the previous release looks like
        db.session.execute(sa.delete(SupportEntry))
        db.session.commit()
        assert ledger.needs_backfill()

    first = runner.invoke(main, ["support", "backfill"])
    assert first.exit_code == 0, first.output
    assert "3" in first.output
    assert entries(app) == before
    again = runner.invoke(main, ["support", "backfill"])
    assert again.exit_code == 0 and ": 0" in again.output
    assert len(entries(app)) == 3
    with app.app_context():
        assert not ledger.needs_backfill()
