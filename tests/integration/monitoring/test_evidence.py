"""Visit evidence and the checks a visit answers by itself, through real OpenRosa POSTs
(multipart with Collect's audit.csv), on SQLite and PostgreSQL."""

from __future__ import annotations

import datetime as dt

import sqlalchemy as sa

from server.db import db
from server.models import Attachment, Submission
from server.models.monitoring import FlagState, MonitoringFlag, VisitEvidence
from server.services.monitoring import runs
from tests.integration.monitoring.visits import HOME, audit_csv, post, register, visit_xml

NOW = dt.datetime.now(dt.UTC).replace(microsecond=0)


def _evidence(app):
    with app.app_context():
        rows = db.session.scalars(sa.select(VisitEvidence).order_by(VisitEvidence.id)).all()
        db.session.expunge_all()
        return rows


def _flags(app):
    with app.app_context():
        rows = db.session.execute(
            sa.select(MonitoringFlag.check, MonitoringFlag.submission_id, MonitoringFlag.params)
        ).all()
        return {(check, sid): params for check, sid, params in rows}


def test_a_visit_with_its_audit_log_records_time_gps_distance_and_the_attachment(
    client, world, app
):
    hid = register(client, world)
    start = NOW - dt.timedelta(hours=2)
    near = (HOME[0] + 0.0009, HOME[1])  # about 100 m north
    xml = visit_xml(hid, start, minutes=40, where=near)
    response = post(client, world, xml, ("audit.csv", audit_csv(start, 1500, (*near, 6))))

    assert response.status_code == 201
    [ev] = _evidence(app)
    assert ev.household_id == hid
    assert ev.duration_seconds == 2400 and ev.form_seconds == 1500
    assert abs(ev.distance_m - 100) < 2 and ev.accuracy_m == 8
    assert ev.details["audit"]["questions"] == 20 and ev.details["location_from"] == "form"
    with app.app_context():
        attachment = db.session.get(Attachment, ev.audit_attachment_id)
        assert attachment.filename == "audit.csv"
    assert _flags(app) == {}  # an honest visit raises nothing


def test_a_short_far_visit_is_flagged_at_ingest_with_its_reason(client, world, app):
    hid = register(client, world)
    start = NOW - dt.timedelta(hours=1)
    far = (HOME[0] + 0.02, HOME[1])  # about 2.2 km away
    xml = visit_xml(hid, start, minutes=30, where=far)
    response = post(client, world, xml, ("audit.csv", audit_csv(start, 120, (*far, 5))))

    assert response.status_code == 201  # a flag never refuses a submission
    [ev] = _evidence(app)
    flags = _flags(app)
    assert flags[("short", ev.submission_id)] == {"minutes": 2, "min_minutes": 5}
    assert flags[("far", ev.submission_id)] == {"metres": 2224, "max_metres": 300}
    assert len(flags) == 2


def test_a_visit_without_gps_or_audit_is_flagged_no_location(client, world, app):
    hid = register(client, world)
    response = post(client, world, visit_xml(hid, NOW - dt.timedelta(hours=1), where=None))

    assert response.status_code == 201
    [ev] = _evidence(app)
    assert ev.latitude is None and ev.form_seconds is None
    assert _flags(app) == {("no_location", ev.submission_id): {}}


def test_a_flag_raised_again_by_a_later_post_of_the_same_visit_is_kept_once(client, world, app):
    """The later POST reads the visit's evidence again and raises its own flags again: the
    flag already there is skipped (its key), not stored twice and not an error."""
    hid = register(client, world)
    start = NOW - dt.timedelta(hours=2)
    xml = visit_xml(hid, start, where=None)
    assert post(client, world, xml, incomplete=True).status_code == 201
    [ev] = _evidence(app)
    assert _flags(app) == {("no_location", ev.submission_id): {}}

    later = post(client, world, xml, ("audit.csv", audit_csv(start, 900)))  # still no GPS

    assert later.status_code in (201, 202)
    [ev] = _evidence(app)
    assert ev.audit_attachment_id is not None and ev.form_seconds == 900  # read again
    with app.app_context():
        count = db.session.scalar(sa.select(sa.func.count()).select_from(MonitoringFlag))
    assert count == 1 and _flags(app) == {("no_location", ev.submission_id): {}}


def test_an_audit_log_in_a_later_post_of_the_same_visit_fills_the_evidence(client, world, app):
    hid = register(client, world)
    start = NOW - dt.timedelta(hours=3)
    xml = visit_xml(hid, start, where=None)
    assert post(client, world, xml, incomplete=True).status_code == 201
    [ev] = _evidence(app)
    assert ev.latitude is None and ev.audit_attachment_id is None

    spot = (HOME[0], HOME[1] + 0.0002)
    response = post(client, world, xml, ("audit.csv", audit_csv(start, 900, (*spot, 12))))

    assert response.status_code in (201, 202)
    [ev] = _evidence(app)
    assert ev.form_seconds == 900 and ev.audit_attachment_id is not None
    assert ev.details["location_from"] == "audit" and ev.accuracy_m == 12
    assert 15 < ev.distance_m < 30


def test_a_broken_audit_log_never_refuses_the_visit(client, world, app):
    hid = register(client, world)
    start = NOW - dt.timedelta(hours=1)
    broken = b'event,node,start\n"form start,,\x00\xff\nquestion,/data/x,notatime\n'
    response = post(client, world, visit_xml(hid, start), ("audit.csv", broken))

    assert response.status_code == 201
    [ev] = _evidence(app)
    assert ev.form_seconds is None and ev.details["audit"]["bad_rows"] >= 1
    assert ev.duration_seconds == 35 * 60  # start to end still counts


def test_a_backdated_visit_is_flagged_and_a_rerun_changes_nothing_decided(client, world, app):
    hid = register(client, world)
    start = NOW - dt.timedelta(days=45)
    post(client, world, visit_xml(hid, start), ("audit.csv", audit_csv(start, 1200, (*HOME, 5))))
    [ev] = _evidence(app)
    assert _flags(app)[("backdated", ev.submission_id)] == {"days": 45, "max_days": 30}

    with app.app_context():
        flag = db.session.scalars(sa.select(MonitoringFlag)).one()
        flag.state, flag.comment = FlagState.DISMISSED, "Không có sóng, gửi muộn."
        db.session.commit()
        report = runs.run_checks(None, NOW.date())
        assert report.decided == 1 and sum(report.new.values()) == 0
        again = runs.run_checks(None, NOW.date())
        assert sum(again.new.values()) == 0 and again.updated == 0
        flag = db.session.scalars(sa.select(MonitoringFlag)).one()
        assert flag.state == FlagState.DISMISSED and flag.comment == "Không có sóng, gửi muộn."
        assert db.session.scalar(sa.select(sa.func.count()).select_from(Submission)) == 2
