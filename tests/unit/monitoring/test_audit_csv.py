"""Collect's audit.csv read into time on questions and locations; never raising on any bytes."""

from __future__ import annotations

from hypothesis import given
from hypothesis import strategies as st

from server.services.monitoring import audit_csv

# As Collect v2024 writes it with location tracking and track-changes on.
COLLECT = b"""event,node,start,end,latitude,longitude,accuracy,old-value,new-value
form start,,1733380000000,,,,,,
location tracking enabled,,1733380000100,,,,,,
question,/data/visited/household,1733380001000,1733380031000,21.38001,103.02002,12.0,,abc
group questions,/data/visit,1733380031000,1733380091000,21.38001,103.02002,12.0,,
question,/data/plan/plan_agreed,1733380091000,1733380391000,21.38003,103.02001,4.5,,\
"Nu\xc3\xb4i b\xc3\xb2, tr\xe1\xbb\x93ng ng\xc3\xb4"
jump,,1733380391000,1733380395000,21.38003,103.02001,4.5,,
form save,,1733380400000,,21.38003,103.02001,4.5,,
form exit,,1733380401000,,21.38003,103.02001,4.5,,
"""


def test_time_on_questions_and_the_best_location_of_a_collect_log():
    log = audit_csv.parse(COLLECT)
    assert log.rows == 8 and log.bad_rows == 0
    assert log.questions == 3 and log.question_seconds == 30 + 60 + 300
    assert len(log.locations) == 2  # a fix repeated on the next events is kept once
    best = log.best_location()
    assert (best.latitude, best.longitude, best.accuracy_m) == (21.38003, 103.02001, 4.5)
    assert log.first_ms == 1733380000000 and log.last_ms == 1733380401000


def test_a_log_without_location_columns_has_timings_and_no_locations():
    data = (
        b"event,node,start,end\nform start,,1733380000000,\n"
        b"question,/data/a,1733380000000,1733380060000\n"
    )
    log = audit_csv.parse(data)
    assert log.question_seconds == 60 and log.locations == [] and log.best_location() is None


def test_bad_rows_are_counted_and_skipped():
    data = (
        "\ufeffevent,node,start,end,latitude,longitude,accuracy\n"
        "question,/data/a,1733380000000,1733380060000,91,200,5\n"  # no such place
        "question,/data/b,yesterday,,,,\n"  # no time
        ",/data/c,1733380000000,,,,\n"  # no event
        "question,/data/d,1733380000000,1733370000000,0,0,3\n"  # ends before it starts; 0,0
        "question,/data/e,1733380000000,1733389000000,21.4,103.0,nan\n"  # left open 2.5 h
    ).encode()
    log = audit_csv.parse(data)
    assert log.rows == 5 and log.bad_rows == 2
    assert log.question_seconds == audit_csv.MAX_QUESTION_SECONDS + 60
    assert [(loc.latitude, loc.accuracy_m) for loc in log.locations] == [(21.4, None)]


def test_a_log_cut_in_a_quote_keeps_what_came_before():
    data = (
        b'event,node,start,end\nquestion,/data/a,1733380000000,1733380010000\nquestion,"/data/b\n'
    )
    log = audit_csv.parse(data)
    assert log.question_seconds == 10


@given(st.binary(max_size=400))
def test_any_bytes_are_read_without_raising(data):
    log = audit_csv.parse(data)
    assert log.rows >= log.bad_rows >= 0
