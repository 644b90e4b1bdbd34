"""Benchmark: giupho at province scale (issue 19's figures) on PostgreSQL, 1,000,000 households.

Load. A scratch schema gets the test world (`tests.integration.live.populate_world`)
and `P` template households sent through the real JSON sync API: a registration with
the shipped form (head, a member, phone, the poverty dimensions) and a visit of each, a
quarter with support; every other one is paired with its cadre. Every row this wrote
(households, versions, submissions and payloads, duplicate keys and profiles, answer
fingerprints, the change log, pairs, support entries, visit evidence, monitoring flags,
audit events) is read back with `COPY ... TO` in each model's column order, and the
scratch schema is dropped. The bench schema gets the same world, a province of generated
communes and villages with one cadre each, and then the template rows copied `N / P`
times with `COPY ... FROM` (psycopg's `cursor.copy()`), every copy re-keyed: ids shifted
by a per-table stride, household and instance UUIDs (whose first group is a marker) and
phone numbers made unique, villages, communes, cadres and devices replaced by the copy's
own, dates spread over a year (1/365 of the households today). Indexes and constraints
are dropped around the load and made again, then VACUUM (ANALYZE). The rows are therefore of the
app's own shapes by construction (`giupho households rebuild` finds no difference), and a
schema change the models do not know breaks the `COPY` loudly.

The first `CADRE_HOUSEHOLDS` (500) households are in one village whose cadre is the
cadre measured below.

Measure, against gunicorn (4 sync workers) on loopback, wall time per request as the
client sees it (the server's time plus loopback; median of `REPEAT`):
- OpenRosa: the manifest and households CSV of the form listing households, for the
  500-household cadre, and a whole Collect refresh (formList, every manifest and media);
- `GET /api/v1/households` pages of 50 and 200 for that cadre;
- OpenRosa ingest with 4 clients (ODK Central's load kit, as `bench/ingest.py`), with
  the PSS and RSS of master + 4 workers sampled while it runs (psutil);
- `giupho duplicates recheck --since 24` (a subprocess), and JSON pulls
  (`/api/v1/sync/pull`) timed while it runs, beside pulls timed before it;
- `giupho households rebuild` of every household (a subprocess; `--skip-rebuild`),
  wall and CPU time, stopped at `--rebuild-limit` seconds;
and the machine-speed row (`bench/ingest.py`'s `machine_speed_us`) to read rates
across runs on a shared machine.

Run: `.venv/bin/python bench/scale.py [--households 1000000] [--keep] [--skip-rebuild]`
(PostgreSQL from GIUPHO_TEST_POSTGRES_URL; its own schema, dropped after unless --keep).
"""

from __future__ import annotations

import argparse
import datetime as dt
import hashlib
import io
import os
import re
import statistics
import subprocess
import sys
import tempfile
import threading
import time
from collections.abc import Iterator
from dataclasses import dataclass, field
from pathlib import Path

HERE = Path(__file__).resolve().parent
sys.path[:0] = [str(HERE.parent), str(HERE)]

import psycopg  # noqa: E402
import requests  # noqa: E402
import sqlalchemy as sa  # noqa: E402

from server.db import db  # noqa: E402
from server.models import (  # noqa: E402
    AdminUnit,
    Base,
    Device,
    Household,
    Role,
    UnitLevel,
    User,
    user_scope,
)
from server.models.base import UTCDateTime  # noqa: E402
from tests.integration import database  # noqa: E402
from tests.integration.helpers import PASSWORD  # noqa: E402
from tests.integration.live import (  # noqa: E402
    LiveServer,
    World,
    populate_world,
    prepare_database,
    process_cpu_seconds,
)

DEFAULT_POSTGRES = "postgresql+psycopg://postgres@127.0.0.1:5432/test"
CADRE_HOUSEHOLDS = 500
VILLAGES_PER_COMMUNE = 10
HOUSEHOLDS_PER_COMMUNE = 10_000  # ~100 communes at 1M, as the province
REPEAT = 10
MARKER = "5ca1e000"  # first group of every template UUID (household and instance ids)
PHONE_MARKER = "097777"  # first digits of every template phone: 0977770000 + template
SCALE_CADRE = "scale_cadre"
PROVINCE = "11"  # the test world's province (Điện Biên); generated communes are 9xxxx
TEMPLATE_COMMUNE = "03325"  # where the templates are registered (commune_a)


def row(name: str, measured: float | None, unit: str, target: str, reference: str) -> dict:
    """One line of the benchmark table (`bench/run.py`)."""
    return dict(name=name, measured=measured, unit=unit, target=target, reference=reference)


def log(message: str) -> None:
    print(f"[scale {time.strftime('%H:%M:%S')}] {message}", file=sys.stderr, flush=True)


# --- connections -------------------------------------------------------------------


def libpq_url(url: str) -> str:
    """The SQLAlchemy URL as a libpq one (psycopg.connect), search_path option kept."""
    return sa.engine.make_url(url).set(drivername="postgresql").render_as_string(False)


def connect(url: str) -> psycopg.Connection:
    return psycopg.connect(libpq_url(url), autocommit=True)


def tables() -> list[sa.Table]:
    """Every table of the models, parents before children."""
    return list(Base.metadata.sorted_tables)


def columns(table: sa.Table) -> str:
    return ", ".join(f'"{c.name}"' for c in table.columns)


def copy_out(conn: psycopg.Connection, table: sa.Table) -> list[str]:
    """The table's rows as COPY text lines, in the models' column order."""
    buffer = io.BytesIO()
    # COPY (SELECT ...): a partitioned table (PostgreSQL, `server.operations.partitions`)
    # cannot be copied from by name.
    sql = f'COPY (SELECT {columns(table)} FROM "{table.name}") TO STDOUT'
    with conn.cursor().copy(sql) as copy:
        for data in copy:
            buffer.write(data)
    text = buffer.getvalue().decode("utf-8")
    return text.splitlines()


# --- templates ---------------------------------------------------------------------

# fmt: off
FAMILIES = ("Lò", "Nguyễn", "Trần", "Lê", "Phạm", "Hoàng", "Vũ", "Đặng", "Bùi", "Đỗ",
            "Hồ", "Ngô", "Dương", "Lý", "Giàng", "Vàng", "Mùa", "Sùng", "Quàng", "Cầm")
GIVENS = ("An", "Bình", "Cường", "Dũng", "Đạt", "Giang", "Hải", "Hùng", "Khánh", "Lâm",
          "Long", "Minh", "Nam", "Nghĩa", "Phong", "Phúc", "Quang", "Quý", "Sơn", "Tài",
          "Thắng", "Thành", "Thịnh", "Tiến", "Toàn", "Trung", "Tuấn", "Việt", "Vinh", "Xuân",
          "Chiến", "Công", "Định", "Đức", "Hiếu", "Hoà", "Huy", "Kiên", "Lộc", "Lợi",
          "Mạnh", "Nhân", "Ninh", "Pháp", "Quân", "Sáng", "Tâm", "Thái", "Thiện", "Thuận")
WIVES = ("Hoa", "Lan", "Mai", "Hương", "Thảo", "Xuân", "Nga", "Yến", "Dung", "Hằng",
         "Linh", "Trang", "Vân", "Thu", "Hạnh", "Nhung", "Phương", "Quyên", "Tuyết", "Oanh")
# fmt: on
INCOMES = ("900000", "1400000", "1900000", "2600000")  # poor, poor, near-poor, not poor
BOOKS = {"support_kind": "books", "support_quantity": "3", "support_value": "450000",
         "support_source": "organisation", "support_giver": "Hội Khuyến học xã",
         "support_pupils": "2"}  # fmt: skip


def head_year(t: int) -> int:
    return 1935 + t % 35


def member_year(t: int) -> int:
    """Never the head's year (the copies shift both; see `year_pairs`)."""
    year = 1937 + t % 33
    return year + 1 if year == head_year(t) else year


YEAR_SHIFTS = 25


def year_pairs(t: int, shift: int) -> list[tuple[str, str]]:
    """The birth years of template `t` shifted by `shift` (0-24) years, where a year
    stands in the rows: a JSON string, a JSON number, a key (`|1950`), a label (`(1950)`).
    Copies of one template are namesakes, but rarely of the same age, as in a province: the
    ten copies of a template that land in one commune are at least two years apart.
    The later year first and the shift never negative: no year is shifted twice."""
    found = []
    for year in sorted((head_year(t), member_year(t)), reverse=True):
        old, new = str(year), str(year + shift)
        found += [(f'"{old}"', f'"{new}"'), (f" {old},", f" {new},"), (f"|{old}", f"|{new}"),
                  (f"({old})", f"({new})")]  # fmt: skip
    return found if shift else []


def template_ids(t: int) -> tuple[str, str, str]:
    """(household id, registration instance id, visit instance id) of template `t`."""
    base = f"{MARKER}-{t:04x}-4000-8000-"
    return base + "000000000000", f"uuid:{base}000000000001", f"uuid:{base}000000000002"


def template_items(count: int) -> tuple[list[dict], list[dict]]:
    """Push items: a registration of each template household and a visit of each."""
    from tests.integration.contract.drivers import answers_item
    from tests.integration.contract.submissions import (
        _DIMENSIONS,
        _WHEN,
        _build,
        registration_form,
        visit,
    )

    registrations, visits = [], []
    for t in range(count):
        hid, reg_id, visit_id = template_ids(t)
        family, given = FAMILIES[t % len(FAMILIES)], GIVENS[t // len(FAMILIES) % len(GIVENS)]
        village = f"{TEMPLATE_COMMUNE}_{1 + t % 2:02d}"
        answers = {**_WHEN, **{k: dict(v) for k, v in _DIMENSIONS.items()}}
        answers["income"] = {"income_per_person": INCOMES[t % len(INCOMES)]}
        answers |= {
            "place": {"province": PROVINCE, "commune": TEMPLATE_COMMUNE, "village": village,
                      "area": "rural", "address": f"Nhà số {t % 97 + 1}"},
            "head": {"head_name": f"{family} Văn {given}", "head_sex": "male",
                     "head_birth_year": str(head_year(t)), "ethnicity": "thai",
                     "phone": f"{PHONE_MARKER}{t:04d}"},
            "member": [{"member_name": f"{FAMILIES[(t + 7) % 20]} Thị {WIVES[t % 20]}",
                        "member_sex": "female", "member_birth_year": str(member_year(t)),
                        "member_relation": "spouse"}],
            "meta": {"instanceID": reg_id,
                     "entity": {"@dataset": "households", "@create": "1", "@id": hid}},
        }  # fmt: skip
        root = _build(registration_form(), answers, {})
        registrations.append(answers_item(root))
        support = [BOOKS] if t % 4 == 1 else None
        visits.append(answers_item(visit(hid, instance_id=visit_id, support=support)))
    return registrations, visits


@dataclass
class Templates:
    """The rows the template households wrote, per table, and the world's ids they name."""

    count: int
    lines: dict[str, list[tuple[int, str]]]  # table -> [(template, COPY line)]
    dropped: dict[str, int]  # rows written but tied to no template (batch-level rows)
    spans: dict[str, int]  # table -> id stride per copy round
    units: dict[int, str]  # admin unit id -> role: commune / village_1 / village_2
    cadre_id: int = 0
    device_id: int = 0


def make_templates(count: int, workdir: Path) -> Templates:
    """Register `count` template households through the JSON API on a scratch schema."""
    from server.services.access import users
    from server.services.programme import pairs
    from server.services.programme import units as admin_units

    schema, url = database.make_postgres_schema("giupho_scale_tpl")
    try:
        world = prepare_database(url, workdir, populate_world)
        with connect(url) as conn:
            before = {t.name: set(copy_out(conn, t)) for t in tables()}
        app = database.build_app(url, str(workdir), LOG_LEVEL="WARNING")
        registrations, visits = template_items(count)
        client = app.test_client()
        headers = {"Authorization": f"Bearer {world.tokens['cadre_a']}"}
        for items in (registrations, visits):
            for start in range(0, len(items), 100):
                response = client.post(
                    "/api/v1/sync/push", json={"items": items[start : start + 100]},
                    headers=headers,
                )  # fmt: skip
                results = response.get_json()["results"]
                bad = [r for r in results if r["result"] != "accepted"]
                assert response.status_code == 200 and not bad, (response.status_code, bad[:2])
        with app.app_context():
            # Every other household is paired with its cadre (the programme's pairs).
            helper = users.find("cadre_a")
            for t in range(0, count, 2):
                pairs.pair(db.session.get(Household, template_ids(t)[0]), helper)
            commune = admin_units.find("11/03325")
            units = {commune.id: "commune"}
            for number in (1, 2):
                units[admin_units.find(f"11/03325/{number:02d}").id] = f"village_{number}"
            cadre = users.find("cadre_a")
            device = db.session.scalar(
                sa.select(Device.id).where(Device.user_id == cadre.id, Device.revoked_at.is_(None))
            )
            cadre_id = cadre.id
        database.dispose_app(app)
        pattern = re.compile(MARKER + r"-([0-9a-f]{4})")
        lines, dropped, spans = {}, {}, {}
        owners: dict[str, dict[str, int]] = {}  # table -> id -> template (rows with an id)
        with connect(url) as conn:
            for table in tables():
                new = [line for line in copy_out(conn, table) if line not in before[table.name]]
                names = [c.name for c in table.columns]
                # A row naming no UUID (a payload's bytes are hex) belongs to the template
                # of the row its foreign key points at.
                links = [(names.index(c.name), fk.column.table.name)
                         for c in table.columns for fk in c.foreign_keys
                         if fk.column.table.name in owners]  # fmt: skip
                tagged = []
                for line in new:
                    found = pattern.search(line)
                    fields = line.split("\t")
                    t = int(found.group(1), 16) if found else None
                    for i, parent in links:
                        if t is None:
                            t = owners[parent].get(fields[i])
                    if t is not None:
                        tagged.append((t, line))
                        if "id" in names:
                            owners.setdefault(table.name, {})[fields[names.index("id")]] = t
                if len(new) > len(tagged):
                    dropped[table.name] = len(new) - len(tagged)
                if tagged:
                    lines[table.name] = tagged
                if "id" in table.c and isinstance(table.c.id.type.as_generic(), sa.Integer):
                    top = conn.execute(f'SELECT max(id) FROM "{table.name}"').fetchone()[0]
                    spans[table.name] = top or 0
        return Templates(count, lines, dropped, spans, units, cadre_id, device)
    finally:
        database.drop_postgres_schema(schema)


# --- the bench database --------------------------------------------------------------


@dataclass
class Layout:
    """The generated province: communes, villages, a cadre and device per village."""

    communes: list[tuple[int, str]] = field(default_factory=list)  # (id, code)
    villages: list[tuple[int, int, str]] = field(default_factory=list)  # (id, commune index, code)
    cadres: list[int] = field(default_factory=list)  # user id per village
    devices: list[int] = field(default_factory=list)  # device id per village
    cadre_token: str = ""


def plain_rows(conn, table: sa.Table, rows: list[dict]) -> None:
    """Write `rows` (column name -> value) in the model's column order; a column the
    model requires and the bench does not fill fails here, loudly."""
    names = [c.name for c in table.columns]
    for item in rows:
        unknown = set(item) - set(names)
        assert not unknown, f"{table.name}: no columns {unknown}"
    with conn.cursor().copy(f'COPY "{table.name}" ({columns(table)}) FROM STDIN') as copy:
        for item in rows:
            copy.write_row([item.get(name) for name in names])


def next_id(conn, table: str) -> int:
    return (conn.execute(f'SELECT max(id) FROM "{table}"').fetchone()[0] or 0) + 1


def generate_layout(url: str, households: int) -> Layout:
    """Communes (`HOUSEHOLDS_PER_COMMUNE` households each) of `VILLAGES_PER_COMMUNE` villages,
    a cadre with a device in each village; the first village's cadre is made through the
    services (a real password and device token) and measured."""
    from server.services.access import auth, users

    now = dt.datetime.now(dt.UTC)
    n_communes = max(2, round(households / HOUSEHOLDS_PER_COMMUNE))
    layout = Layout()
    with connect(url) as conn:
        province = conn.execute(
            "SELECT id FROM admin_units WHERE path = %s", (PROVINCE,)
        ).fetchone()[0]
        unit_id = next_id(conn, "admin_units")
        units = []
        for k in range(n_communes):
            code = f"9{k:04d}"
            layout.communes.append((unit_id, code))
            units.append(dict(id=unit_id, code=code, name=f"Xã Phúc Lợi {k + 1}",
                              level=UnitLevel.COMMUNE.value, kind="Xã", parent_id=province,
                              path=f"{PROVINCE}/{code}", created_at=now))  # fmt: skip
            commune_id = unit_id
            unit_id += 1
            for v in range(VILLAGES_PER_COMMUNE):
                vcode = f"{v + 1:02d}"
                layout.villages.append((unit_id, k, vcode))
                units.append(dict(id=unit_id, code=vcode, name=f"Bản {v + 1}",
                                  level=UnitLevel.VILLAGE.value, kind="Bản",
                                  parent_id=commune_id, path=f"{PROVINCE}/{code}/{vcode}",
                                  created_at=now))  # fmt: skip
                unit_id += 1
        plain_rows(conn, AdminUnit.__table__, units)
        conn.execute("SELECT setval(pg_get_serial_sequence('admin_units', 'id'), %s)", (unit_id,))
    app = database.build_app(url, tempfile.mkdtemp(prefix="giupho-scale-"), LOG_LEVEL="WARNING")
    with app.app_context():
        first = db.session.get(AdminUnit, layout.villages[0][0])
        cadre = users.create_user(SCALE_CADRE, "Cán bộ Quy Mô", Role.CADRE, PASSWORD, [first])
        layout.cadre_token = auth.register_device(cadre, "Tablet")[1]
        db.session.commit()
        layout.cadres.append(cadre.id)
        layout.devices.append(
            db.session.scalar(sa.select(Device.id).where(Device.user_id == cadre.id))
        )
    database.dispose_app(app)
    with connect(url) as conn:
        user_id, device_id = next_id(conn, "users"), next_id(conn, "devices")
        people, scopes, devices = [], [], []
        for number, (village_id, _k, _code) in enumerate(layout.villages[1:], start=1):
            people.append(dict(id=user_id, username=f"scale_cadre_{number}",
                               full_name=f"Cán bộ {number}", role=Role.CADRE.value,
                               active=True, created_at=now))  # fmt: skip
            scopes.append(dict(user_id=user_id, unit_id=village_id))
            token = hashlib.sha256(f"scale-device-{number}".encode()).hexdigest()
            devices.append(dict(id=device_id, user_id=user_id, name="Tablet",
                                token_hash=token, created_at=now))  # fmt: skip
            layout.cadres.append(user_id)
            layout.devices.append(device_id)
            user_id, device_id = user_id + 1, device_id + 1
        plain_rows(conn, User.__table__, people)
        plain_rows(conn, user_scope, scopes)
        plain_rows(conn, Device.__table__, devices)
        for name, top in (("users", user_id), ("devices", device_id)):
            conn.execute(f"SELECT setval(pg_get_serial_sequence('{name}', 'id'), %s)", (top,))
    return layout


@dataclass
class Shape:
    """How one table's COPY lines are re-keyed: by field position."""

    shifts: list[tuple[int, str]]  # (field, table whose id stride applies)
    units: list[int]  # admin unit fields
    users: list[int]
    devices: list[int]
    times: list[int]
    keys: list[int]  # duplicate key text (carries the commune id)
    binary: list[int] = field(default_factory=list)  # bytea fields (COPY writes hex)
    visit_key: int | None = None  # monitoring flag "visit:<submission id>"
    visit_of: int = 0


def shape_of(table: sa.Table, cloned: set[str]) -> Shape:
    shape = Shape([], [], [], [], [], [])
    for i, column in enumerate(table.columns):
        targets = {fk.column.table.name for fk in column.foreign_keys}
        if column.primary_key and column.name == "id" and table.name in cloned:
            shape.shifts.append((i, table.name))
        elif targets & cloned and isinstance(column.type.as_generic(), sa.Integer):
            shape.shifts.append((i, next(iter(targets & cloned))))
        elif "admin_units" in targets:
            shape.units.append(i)
        elif "users" in targets:
            shape.users.append(i)
        elif "devices" in targets:
            shape.devices.append(i)
        if isinstance(column.type, UTCDateTime):
            shape.times.append(i)
    names = [c.name for c in table.columns]
    if table.name == "duplicate_keys":
        shape.keys.append(names.index("key"))
    if table.name == "monitoring_flags":
        shape.visit_key, shape.visit_of = names.index("subject_key"), names.index("submission_id")
    shape.binary = [i for i, c in enumerate(table.columns) if isinstance(c.type, sa.LargeBinary)]
    return shape


def cadre_households(households: int) -> int:
    """How many households the measured cadre's village holds (500; fewer on a tiny run)."""
    return min(CADRE_HOUSEHOLDS, households // 4)


def village_of(index: int, villages: int, cadre: int) -> int:
    """The village of household `index`: the first `cadre` in village 0, the others
    round-robin over the rest."""
    if index < cadre:
        return 0
    return 1 + (index - cadre) % (villages - 1)


def clone_lines(
    tpl: Templates,
    table: sa.Table,
    layout: Layout,
    households: int,
    today: dt.date,
    bases: dict[str, int],
) -> Iterator[str]:
    """The template rows of `table`, once per household: ids shifted (past `bases`, the
    ids the bench schema already used), UUIDs, phones, places, cadres and dates of the
    copy's own."""
    shape = shape_of(table, set(tpl.spans) & set(tpl.lines))
    commune_of_template = next(u for u, role in tpl.units.items() if role == "commune")
    rounds = -(-households // tpl.count)
    lines = tpl.lines[table.name]
    n_villages, cadre = len(layout.villages), cadre_households(households)
    dates = [(today - dt.timedelta(days=d)).isoformat() for d in range(365)]
    years = [[year_pairs(t, shift) for shift in range(YEAR_SHIFTS)] for t in range(tpl.count)]
    # bytea travels as hex ("\\x7b22..."): decoded once here, re-keyed as text, encoded again.
    decoded = [[_bytea_text(line.split("\t")[i]) for i in shape.binary] for _t, line in lines]
    for c in range(rounds):
        marker, phone = f"{c:08x}", f"09{c:04d}"
        offsets = {name: bases.get(name, 0) + c * span for name, span in tpl.spans.items()}
        for j, (t, line) in enumerate(lines):
            index = c * tpl.count + t
            if index >= households:
                continue
            v = village_of(index, n_villages, cadre)
            village_id, k, vcode = layout.villages[v]
            commune_id, ccode = layout.communes[k]
            fields = line.split("\t")
            for i, target in shape.shifts:
                if fields[i] != "\\N":
                    fields[i] = str(int(fields[i]) + offsets[target])
            for i in shape.units:
                role = tpl.units.get(int(fields[i])) if fields[i] != "\\N" else None
                if role is not None:
                    fields[i] = str(commune_id if role == "commune" else village_id)
            for i in shape.users:
                if fields[i] == str(tpl.cadre_id):
                    fields[i] = str(layout.cadres[v])
            for i in shape.devices:
                if fields[i] == str(tpl.device_id):
                    fields[i] = str(layout.devices[v])
            day = dates[index % 365]
            for i in shape.times:
                if fields[i] != "\\N":
                    fields[i] = day + fields[i][10:]
            for i in shape.keys:
                fields[i] = fields[i].replace(f":{commune_of_template}:", f":{commune_id}:")
            if shape.visit_key is not None and fields[shape.visit_key].startswith("visit:"):
                fields[shape.visit_key] = f"visit:{fields[shape.visit_of]}"
            for i in shape.binary:
                fields[i] = "\0"  # its text goes through the same replacements below
            text = "\t".join(fields)
            # Digits only where a value starts (a quote, a search text's bar, a key's colon):
            # a bare "03325" would also match inside an id or a timestamp.
            pairs = [(MARKER, marker), *[(f"{p}{PHONE_MARKER}", f"{p}{phone}") for p in '"|:'],
                     (f'"{TEMPLATE_COMMUNE}_01"', f'"{ccode}_{vcode}"'),
                     (f'"{TEMPLATE_COMMUNE}_02"', f'"{ccode}_{vcode}"'),
                     (f'"{TEMPLATE_COMMUNE}"', f'"{ccode}"')]  # fmt: skip
            pairs += years[t][c * 2 % YEAR_SHIFTS]
            for old, new in pairs:
                text = text.replace(old, new)
            if shape.binary:
                parts = text.split("\0")
                for n, body in enumerate(decoded[j]):
                    for old, new in pairs:
                        body = body.replace(old, new)
                    parts[n] += "\\\\x" + body.encode("utf-8").hex()
                text = "".join(parts)
            yield text


def _bytea_text(value: str) -> str:
    """A bytea field of COPY's text format (the payloads are UTF-8 JSON or XML) as text."""
    assert value.startswith("\\\\x"), value[:10]
    return bytes.fromhex(value[3:]).decode("utf-8")


def drop_constraints(conn, names: list[str]) -> tuple[list, list]:
    """Drop the indexes and constraints of `names`; returns the DDL that makes them again,
    as (table, statement): primary keys, uniques and indexes, then foreign keys."""
    found = conn.execute(
        "SELECT conrelid::regclass::text, conname, pg_get_constraintdef(oid), contype "
        "FROM pg_constraint WHERE conrelid::regclass::text = ANY(%s) AND contype IN "
        "('p', 'u', 'f') AND conparentid = 0",
        (names,),
    ).fetchall()
    # Foreign keys pointing INTO the loaded tables from others must go as well.
    inbound = conn.execute(
        "SELECT conrelid::regclass::text, conname, pg_get_constraintdef(oid), contype "
        "FROM pg_constraint WHERE confrelid::regclass::text = ANY(%s) AND contype = 'f' "
        "AND conparentid = 0",  # a partition's copy of its parent's key goes with the parent
        (names,),
    ).fetchall()
    constraints = {(t, n): (d, k) for t, n, d, k in [*found, *inbound]}
    indexes = conn.execute(
        "SELECT tablename, indexname, indexdef FROM pg_indexes WHERE schemaname = "
        "current_schema() AND tablename = ANY(%s) AND indexname NOT IN (SELECT conname "
        "FROM pg_constraint WHERE contype IN ('p', 'u'))",
        (names,),
    ).fetchall()
    for (table, name), (_d, _kind) in sorted(constraints.items(), key=lambda x: x[1][1] != "f"):
        conn.execute(f'ALTER TABLE "{table}" DROP CONSTRAINT IF EXISTS "{name}"')
    for _table, name, _definition in indexes:
        conn.execute(f'DROP INDEX IF EXISTS "{name}"')
    first = [(t, f'ALTER TABLE "{t}" ADD CONSTRAINT "{n}" {d}') for (t, n), (d, k) in
             constraints.items() if k != "f"]  # fmt: skip
    # A partitioned table's index is listed as `ON ONLY parent`, which would make it on the
    # parent alone (invalid until attached): made again on the whole table instead.
    first += [(t, definition.replace(" ON ONLY ", " ON ")) for t, _n, definition in indexes]
    last = [(t, f'ALTER TABLE "{t}" ADD CONSTRAINT "{n}" {d}') for (t, n), (d, k) in
            constraints.items() if k == "f"]  # fmt: skip
    return first, last


#: Connections loading at once: PostgreSQL turns each COPY and index build into one
#: backend process, so two keep both of this machine's cores busy.
LOAD_WORKERS = 2


def in_parallel(jobs: list, work) -> list:
    """`work(job)` for every job on `LOAD_WORKERS` threads (each its own connection), in
    the order given (the biggest first, so the two finish together); the results."""
    from concurrent.futures import ThreadPoolExecutor

    with ThreadPoolExecutor(LOAD_WORKERS) as pool:
        return list(pool.map(work, jobs))


def session(url: str) -> psycopg.Connection:
    conn = connect(url)
    conn.execute("SET maintenance_work_mem = '256MB'")
    conn.execute("SET synchronous_commit = off")
    return conn


def load(url: str, tpl: Templates, layout: Layout, households: int) -> dict[str, int]:
    """Copy the templates into the bench schema; returns rows per table."""
    today = dt.datetime.now(dt.UTC).date()
    loaded = [t for t in tables() if t.name in tpl.lines]
    names = [t.name for t in loaded]
    with session(url) as conn:
        bases = {name: next_id(conn, name) for name in names if name in tpl.spans}
        first, last = drop_constraints(conn, names)

    def copy_table(table: sa.Table) -> int:
        started, count = time.monotonic(), 0
        sql = f'COPY "{table.name}" ({columns(table)}) FROM STDIN'
        with session(url) as conn, conn.cursor().copy(sql) as copy:
            chunk = []
            for text in clone_lines(tpl, table, layout, households, today, bases):
                chunk.append(text)
                if len(chunk) >= 2000:
                    copy.write("\n".join(chunk) + "\n")
                    count, chunk = count + len(chunk), []
            if chunk:
                copy.write("\n".join(chunk) + "\n")
                count += len(chunk)
        log(f"  {table.name}: {count:,} rows in {time.monotonic() - started:.0f} s")
        return count

    def execute(statement: str) -> None:
        with session(url) as conn:
            conn.execute(statement)

    def weight(table: sa.Table) -> int:
        return sum(len(line) for _t, line in tpl.lines[table.name])

    loaded.sort(key=weight, reverse=True)
    counts = dict(zip([t.name for t in loaded], in_parallel(loaded, copy_table), strict=True))
    if "submissions" in bases:
        # The copied submissions' claims (R7's guard on PostgreSQL, `submission_instances`,
        # not a model's table): the foreign key made again below checks every row has one.
        started = time.monotonic()
        with session(url) as conn:
            conn.execute(
                "INSERT INTO submission_instances (instance_id, submission_id)"
                " SELECT instance_id, id FROM submissions WHERE id >= %s",
                (bases["submissions"],),
            )
        log(f"  submission_instances: claims made in {time.monotonic() - started:.0f} s")
    started = time.monotonic()
    order = {t.name: rank for rank, t in enumerate(loaded)}  # the biggest tables first
    for phase in (first, last):  # primary keys, uniques and indexes; then foreign keys
        phase.sort(key=lambda item: order.get(item[0], len(order)))
        in_parallel([statement for _t, statement in phase], execute)
    log(f"  indexes and constraints made again in {time.monotonic() - started:.0f} s")
    started = time.monotonic()
    with session(url) as conn:
        for name in names:
            if name in tpl.spans:
                conn.execute(
                    f"SELECT setval(pg_get_serial_sequence('{name}', 'id'), "
                    f'(SELECT coalesce(max(id), 1) FROM "{name}"))'
                )
    # VACUUM as autovacuum would have by the time a province has this many rows: a table
    # just filled by COPY has no visibility map and no hint bits, so the first query to
    # read each row (the bench's) paid for checking and marking it, and no index-only scan
    # was possible. ANALYZE for the planner's statistics, as before.
    in_parallel([f'VACUUM (ANALYZE) "{t.name}"' for t in tables()], execute)
    log(f"  VACUUM (ANALYZE) in {time.monotonic() - started:.0f} s")
    return counts


# --- measurements ---------------------------------------------------------------------


def wall_ms(session: requests.Session, url: str, repeat: int = REPEAT, **kwargs) -> list[float]:
    """Wall milliseconds of `repeat` GETs after one warm-up (each must answer 200)."""
    response = session.get(url, timeout=120, **kwargs)
    assert response.status_code == 200, (url, response.status_code, response.text[:300])
    times = []
    for _ in range(repeat):
        started = time.perf_counter()
        response = session.get(url, timeout=120, **kwargs)
        response.content  # noqa: B018 - the whole body counts
        times.append((time.perf_counter() - started) * 1000)
        assert response.status_code == 200, url
    return times


def openrosa_fetch(session: requests.Session, base: str) -> tuple[float, float, int]:
    """One ODK Collect refresh: formList, then each form's manifest and its media; returns
    (wall ms of the whole refresh, wall ms of the manifest and households CSV of the form
    that lists households, households listed)."""
    started = time.perf_counter()
    form_list = session.get(f"{base}/formList", timeout=120)
    assert form_list.status_code == 200, form_list.text[:300]
    listed, households_ms = 0, 0.0
    for manifest_url in re.findall(r"<manifestUrl>([^<]+)</manifestUrl>", form_list.text):
        asked = time.perf_counter()
        manifest = session.get(manifest_url.replace("&amp;", "&"), timeout=120)
        assert manifest.status_code == 200, manifest.text[:300]
        manifest_ms = (time.perf_counter() - asked) * 1000
        for media_url in re.findall(r"<downloadUrl>([^<]+)</downloadUrl>", manifest.text):
            asked = time.perf_counter()
            media = session.get(media_url.replace("&amp;", "&"), timeout=120)
            assert media.status_code == 200, media.text[:300]
            if "household" in media_url:
                households_ms = manifest_ms + (time.perf_counter() - asked) * 1000
                listed = max(listed, media.text.count("\n") - 1)
    return (time.perf_counter() - started) * 1000, households_ms, listed


def openrosa_rows(server: LiveServer, token: str) -> list[dict]:
    session = requests.Session()
    session.headers["X-OpenRosa-Version"] = "1.0"
    base = f"{server.url}/key/{token}"
    openrosa_fetch(session, base)  # warm-up
    cpu = server.cpu_seconds()
    runs = [openrosa_fetch(session, base) for _ in range(REPEAT)]
    cpu_ms = (server.cpu_seconds() - cpu) * 1000 / REPEAT
    whole = [ms for ms, _, _ in runs]
    pair = [ms for _, ms, _ in runs]
    return [
        row("scale: manifest + households CSV of the form listing them, 500-household cadre",
            statistics.median(pair), "ms", "< 50 ms",
            f"wall on loopback, two requests, median of {REPEAT} (best {min(pair):.0f}); "
            f"{runs[0][2]} households in the CSV"),
        row("scale: a whole Collect refresh: formList + every form's manifest and media",
            statistics.median(whole), "ms", "",
            f"wall on loopback, median of {REPEAT} (best {min(whole):.0f}); server CPU "
            f"{cpu_ms:.0f} ms for the whole refresh"),
    ]  # fmt: skip


def households_api_rows(server: LiveServer, token: str) -> list[dict]:
    session = requests.Session()
    headers = {"Authorization": f"Bearer {token}"}
    rows = []
    for limit in (50, 200):
        url = f"{server.url}/api/v1/households?limit={limit}"
        wall_ms(session, url, repeat=0, headers=headers)  # warm-up
        cpu = server.cpu_seconds()
        times = wall_ms(session, url, headers=headers)
        cpu_ms = (server.cpu_seconds() - cpu) * 1000 / (REPEAT + 1)
        rows.append(row(f"scale: GET /api/v1/households, {limit} items, cadre",
                        statistics.median(times), "ms", "< 50 ms",
                        f"wall on loopback, median of {REPEAT} (best {min(times):.0f}); "
                        f"server CPU {cpu_ms:.0f} ms"))  # fmt: skip
    return rows


def pull_ms(session: requests.Session, url: str, headers: dict) -> float:
    """A whole JSON pull from the start (every page) for the cadre."""
    started, cursor = time.perf_counter(), None
    while True:
        params = {"limit": 500} | ({"cursor": cursor} if cursor else {})
        response = session.get(url, params=params, headers=headers, timeout=120)
        assert response.status_code == 200, response.text[:300]
        page = response.json()
        cursor = page.get("cursor")
        if not page.get("has_more"):
            return (time.perf_counter() - started) * 1000


def giupho(url: str, *args: str, timeout: float) -> tuple[float, float, str, bool]:
    """`giupho ARGS` on the bench database: (wall s, CPU s of the command, output, finished)."""
    env = {k: v for k, v in os.environ.items() if not k.startswith("GIUPHO_")}
    env |= {"GIUPHO_DATABASE_URL": url, "GIUPHO_LOG_LEVEL": "WARNING",
            "PYTHONPATH": str(HERE.parent)}  # fmt: skip
    command = [sys.executable, "-c", "from server.cli import main; main()", *args]
    started = time.monotonic()
    process = subprocess.Popen(command, env=env, stdout=subprocess.PIPE, stderr=subprocess.STDOUT)
    cpu = 0.0
    try:
        output, _ = process.communicate(timeout=timeout)
        finished = True
    except subprocess.TimeoutExpired:
        cpu = process_cpu_seconds(process.pid)
        process.kill()  # the command this bench started, by its pid
        output, _ = process.communicate()
        finished = False
    wall = time.monotonic() - started
    if finished:  # a reaped child's CPU is in this process's rusage of children
        cpu = _children_cpu_delta()
    return wall, cpu, output.decode("utf-8", "replace")[-2000:], finished


_CHILDREN_CPU = [0.0]


def _children_cpu_delta() -> float:
    """CPU seconds of the children reaped since the last call."""
    import resource

    usage = resource.getrusage(resource.RUSAGE_CHILDREN)
    total = usage.ru_utime + usage.ru_stime
    delta, _CHILDREN_CPU[0] = total - _CHILDREN_CPU[0], total
    return delta


def recheck_rows(server: LiveServer, url: str, token: str, households: int) -> list[dict]:
    """The recheck of a day's registrations, and JSON pulls timed before and while it runs."""
    session = requests.Session()
    headers = {"Authorization": f"Bearer {token}"}
    pull_url = f"{server.url}/api/v1/sync/pull"
    pull_ms(session, pull_url, headers)  # warm-up
    before = [pull_ms(session, pull_url, headers) for _ in range(REPEAT)]
    during: list[float] = []
    done = threading.Event()

    def puller() -> None:
        while not done.is_set():
            during.append(pull_ms(session, pull_url, headers))
            done.wait(0.05)

    thread = threading.Thread(target=puller, daemon=True)
    _children_cpu_delta()
    thread.start()
    wall, cpu, output, finished = giupho(url, "duplicates", "recheck", "--since", "24",
                                         timeout=600)  # fmt: skip
    done.set()
    thread.join()
    startup, _cpu, _out, _ok = giupho(url, "--help", timeout=120)
    _children_cpu_delta()
    last = output.strip().splitlines()[-1] if output.strip() else ""
    with connect(url) as conn:  # what the recheck looked at (the load dates 1/365 today)
        today = conn.execute(
            "SELECT count(*) FROM households WHERE created_at >= now() - interval '24 hours'"
            " AND status = 'active'"
        ).fetchone()[0]
    return [
        row("scale: giupho duplicates recheck --since 24 (a day's registrations)", wall, "s",
            "< 10 s", f"{today:,} households of the last 24 h; {cpu:.1f} s CPU of the command; "
            f"starting `giupho` alone takes {startup:.1f} s; "
            f"{'finished' if finished else 'STOPPED at 600 s'}: {last[:80]}"),
        row("scale: JSON pull of the cadre while the recheck runs", max(during, default=None),
            "ms", "not blocked", f"slowest of {len(during)}; median "
            f"{statistics.median(during) if during else 0:.0f} ms; before it median "
            f"{statistics.median(before):.0f} ms, slowest {max(before):.0f} ms"),
    ]  # fmt: skip


class CpuSampler(threading.Thread):
    """CPU seconds of a set of processes while a run lasts: each is read every few seconds,
    so a process that ends keeps its last reading (psutil). On Linux also the scheduler's
    view (`/proc/<pid>/task/*/schedstat`): seconds running and seconds runnable but waiting
    for a core, so that what is left of the wall time is time blocked (I/O, locks, waiting
    on the database): whether a run was short of cores or waiting on something else."""

    def __init__(self, pick, interval: float = 2.0) -> None:
        super().__init__(daemon=True)
        self.pick, self.interval = pick, interval
        self.start_cpu: dict[int, float] = {}
        self.seen: dict[int, float] = {}
        self.start_sched: dict[int, tuple[float, float]] = {}
        self.sched: dict[int, tuple[float, float]] = {}
        self.commands: dict[int, str] = {}  # pid: command line, read once
        self.done = threading.Event()

    def sample(self) -> None:
        import psutil

        for proc in self.pick():
            try:
                times = proc.cpu_times()
            except psutil.Error:
                continue  # gone: its last reading stays
            self.seen[proc.pid] = times.user + times.system
            if proc.pid not in self.commands:
                try:
                    self.commands[proc.pid] = " ".join(proc.cmdline())
                except psutil.Error:
                    self.commands[proc.pid] = ""
            self.start_cpu.setdefault(proc.pid, self.seen[proc.pid] if not self.is_alive() else 0.0)
            sched = schedstat(proc.pid)
            if sched is not None:
                self.sched[proc.pid] = sched
                self.start_sched.setdefault(proc.pid, sched if not self.is_alive() else (0.0, 0.0))

    def scheduled(self, pids) -> tuple[float, float] | None:
        """(seconds running, seconds waiting for a core) of `pids` during the run; None
        where the scheduler's counts cannot be read."""
        pids = [pid for pid in pids if pid in self.sched]
        if not pids:
            return None
        run = sum(self.sched[p][0] - self.start_sched[p][0] for p in pids)
        return run, sum(self.sched[p][1] - self.start_sched[p][1] for p in pids)

    def run(self) -> None:
        while not self.done.wait(self.interval):
            self.sample()

    def __enter__(self) -> CpuSampler:
        self.sample()  # processes alive before the run count from their reading now
        self.start()
        return self

    def __exit__(self, *_exc) -> None:
        self.done.set()
        self.join()
        self.sample()

    @property
    def seconds(self) -> float:
        return sum(cpu - self.start_cpu.get(pid, 0.0) for pid, cpu in self.seen.items())


def schedstat(pid: int) -> tuple[float, float] | None:
    """(seconds on a core, seconds runnable but waiting for one) of a process's threads, from
    Linux's /proc/<pid>/task/*/schedstat (psutil does not read it); None elsewhere."""
    run = wait = 0
    try:
        for task in os.listdir(f"/proc/{pid}/task"):
            with open(f"/proc/{pid}/task/{task}/schedstat") as f:
                fields = f.read().split()
            run, wait = run + int(fields[0]), wait + int(fields[1])
    except (OSError, IndexError, ValueError):
        return None
    return run / 1e9, wait / 1e9


def postgres_processes():
    """Every PostgreSQL server process on this machine (the bench's database is local)."""
    import psutil

    return [p for p in psutil.process_iter(["name"]) if p.info["name"] == "postgres"]


def rebuilt_so_far(url: str) -> int:
    """Households the rebuild's checkpoints count as done (read after a stopped run)."""
    with connect(url) as conn:
        done = conn.execute(
            "SELECT coalesce(sum(households), 0) FROM household_rebuild_checkpoints"
        )
        return int(done.fetchone()[0])  # sum() of a bigint is a numeric: a Decimal


def rebuild_rows(url: str, households: int, limit_s: float, workers: int = 2) -> list[dict]:
    """`giupho households rebuild` queues one job per commune and waits; `giupho worker
    --concurrency N` (one process per core) runs them. CPU is the workers' and the command's,
    and PostgreSQL's own beside it (every server process on this machine: read it on an
    otherwise idle machine). The projection for N free cores is (workers + PostgreSQL) / N."""
    import psutil

    env = {k: v for k, v in os.environ.items() if not k.startswith("GIUPHO_")}
    env |= {"GIUPHO_DATABASE_URL": url, "GIUPHO_LOG_LEVEL": "WARNING",
            "PYTHONPATH": str(HERE.parent)}  # fmt: skip
    command = [sys.executable, "-c", "from server.cli import main; main()", "worker",
               "--concurrency", str(workers)]  # fmt: skip
    quiet = subprocess.DEVNULL
    worker = subprocess.Popen(command, env=env, stdout=quiet, stderr=quiet)
    tree = psutil.Process(worker.pid)

    def worker_tree():
        try:
            return [tree, *tree.children(recursive=True)]
        except psutil.Error:
            return []

    try:
        with CpuSampler(worker_tree) as worker_cpu, CpuSampler(postgres_processes) as pg_cpu:
            _children_cpu_delta()
            wall, cpu, output, finished = giupho(
                url, "households", "rebuild", "--restart", timeout=limit_s
            )
    finally:
        worker.terminate()  # the worker this bench started, by its pid
        try:
            worker.wait(timeout=60)
        except subprocess.TimeoutExpired:
            worker.kill()
    cpu += worker_cpu.seconds
    done = households if finished else rebuilt_so_far(url)
    last = output.strip().splitlines()[-1] if output.strip() else ""
    per, per_pg = cpu * 1000 / max(done, 1), pg_cpu.seconds * 1000 / max(done, 1)
    projected = (per + per_pg) * households / 1000 / workers / 60
    reference = (f"{workers} workers; {done:,} households done; {per:.2f} ms CPU per household "
                 f"+ {per_pg:.2f} ms PostgreSQL's: {projected:.1f} min for "
                 f"{households:,} on {workers} free cores")  # fmt: skip
    busy = job_processes(worker_cpu.commands)
    scheduled = worker_cpu.scheduled(busy)
    if scheduled is not None:
        running, queued = scheduled
        blocked = max(0.0, wall * len(busy) - running - queued)
        reference += (f"; {len(busy)} job processes: {running:.0f} s running, {queued:.0f} s "
                      f"waiting for a core, {blocked:.0f} s blocked (I/O, locks, "
                      "PostgreSQL)")  # fmt: skip
    reference += f"; {last[:60]}" if finished else f"; STOPPED at {limit_s:.0f} s"
    return [row(f"scale: giupho households rebuild, {households:,} households", wall / 60, "min",
                "< 15 min", reference)]  # fmt: skip


def job_processes(commands: dict[int, str]) -> list[int]:
    """The pids of `giupho worker --concurrency N`'s job processes among its process tree
    (pid: command line): the spawned workers, not the parent that waits for them nor
    multiprocessing's resource tracker, which sleep the whole run and would count as
    blocked."""
    return [pid for pid, command in commands.items() if "spawn_main" in command]


class PssPeak(threading.Thread):
    """Samples PSS and RSS of gunicorn's master + workers (psutil) while a run lasts."""

    def __init__(self, server: LiveServer, interval: float = 0.5) -> None:
        super().__init__(daemon=True)
        self.server, self.interval = server, interval
        self.pss = self.rss = 0
        self.done = threading.Event()

    def sample(self) -> tuple[int, int]:
        import psutil

        pss = rss = 0
        for pid in [self.server.process.pid, *self.server.worker_pids()]:
            try:
                info = psutil.Process(pid).memory_full_info()
            except psutil.Error:  # a worker restarted meanwhile
                continue
            pss, rss = pss + info.pss, rss + info.rss
        return pss, rss

    def run(self) -> None:
        while not self.done.is_set():
            pss, rss = self.sample()
            self.pss, self.rss = max(self.pss, pss), max(self.rss, rss)
            self.done.wait(self.interval)

    def __enter__(self) -> PssPeak:
        self.start()
        return self

    def __exit__(self, *_exc) -> None:
        self.done.set()
        self.join()


def ingest_rows(server: LiveServer, admin_token: str, n: int, workdir: Path) -> list[dict]:
    """OpenRosa ingest with 4 clients (the load kit), PSS and RSS sampled while it runs."""
    import ingest

    ingest.warm_up(server, admin_token, workdir)
    idle = PssPeak(server).sample()
    with PssPeak(server) as peak:
        measure = ingest.timed(server, lambda: ingest.openrosa_run(server, admin_token, n,
                                                                   workdir), True)  # fmt: skip
    return [
        row("scale: OpenRosa ingest, 4 clients, at scale", measure.rate, "/s", "≥ 416 /s",
            f"{ingest.CENTRAL_OPENROSA} (×4 = 416); {measure.stored}/{measure.sent} stored "
            f"{measure.statuses}; {measure.cpu_ms:.2f} ms server CPU per submission"),
        row("scale: PSS of gunicorn master + 4 workers, peak under ingest", peak.pss / 2**20,
            "MiB", "≤ 312 MiB", f"RSS beside it {peak.rss / 2**20:.0f} MiB; idle PSS "
            f"{idle[0] / 2**20:.0f} MiB, RSS {idle[1] / 2**20:.0f} MiB"),
    ]  # fmt: skip


def publish_kit_form() -> None:
    from ingest import KIT_FORM

    from forms.xform import read_xform
    from server.models import Form
    from server.services.forms import publishing as form_service

    form_id = read_xform(KIT_FORM.read_bytes()).form_id
    if db.session.scalar(sa.select(Form.id).where(Form.form_id == form_id)) is not None:
        return  # a kept schema measured again (--schema): published the first time
    result = form_service.upload(KIT_FORM.read_bytes(), KIT_FORM.name, None)
    form_service.publish(None, result.version.form.form_id, result.version.version)
    db.session.commit()


# --- the run ----------------------------------------------------------------------------


def postgres_url() -> str:
    url = os.environ.get(database.POSTGRES_ENV, DEFAULT_POSTGRES)
    os.environ[database.POSTGRES_ENV] = url
    return url


def run(
    households: int = 1_000_000,
    *,
    keep: bool = False,
    skip_rebuild: bool = False,
    rebuild_limit: float = 1800.0,
    ingest_n: int = 2000,
    templates: int | None = None,
    load_only: bool = False,
    schema: str | None = None,
) -> list[dict]:
    """Rows for `bench/run.py` (not in its default list: a 1M load takes a quarter hour).
    With `schema` (one kept by `--load-only` or `--keep`), nothing is loaded: the
    measurements run against it again, and it is kept."""
    from ingest import KIT_FORM, machine_speed_us

    base = postgres_url()
    count = templates or max(20, min(1000, households // 100))
    rows = []
    with tempfile.TemporaryDirectory(prefix="giupho-scale-") as tmp:
        workdir = Path(tmp)
        started = time.monotonic()
        reused = schema is not None
        if not reused:
            log(f"templates: {count} households through the JSON API")
            tpl = make_templates(count, workdir / "templates")
            schema, url = database.make_postgres_schema("giupho_scale")
        else:
            url, keep = database.postgres_schema_url(base, schema), True
        log(f"bench schema {schema}")
        try:
            if reused:
                cadre_token, admin_token, households = reuse(url)
                log(f"measuring the kept schema again: {households:,} households")
            else:
                world: World = prepare_database(url, workdir / "bench", populate_world)
                layout = generate_layout(url, households)
                log(f"{len(layout.communes)} communes, {len(layout.villages)} villages; loading")
                counts = load(url, tpl, layout, households)
                load_s = time.monotonic() - started
                total = sum(counts.values())
                rows.append(row(f"scale: load {households:,} households (COPY)", load_s / 60,
                                "min", "< 20 min", f"{total:,} rows in {len(counts)} tables; "
                                f"{counts.get('submissions', 0):,} submissions"))  # fmt: skip
                log(f"loaded in {load_s:.0f} s: {counts}")
                if load_only:  # the schema is kept, to measure pieces against it (--schema)
                    keep = True
                    return rows
                cadre_token, admin_token = layout.cadre_token, world.tokens["admin"]
            kit = KIT_FORM.exists()
            if kit:
                app = database.build_app(url, str(workdir / "bench"), LOG_LEVEL="WARNING")
                with app.app_context():
                    publish_kit_form()
                database.dispose_app(app)
            rows.append(row("machine speed: parse + validate one kit submission",
                            machine_speed_us() if kit else None, "µs", "",
                            "CPU, bench process alone; rates move inversely with it"))  # fmt: skip
            with LiveServer(url, workdir / "server", workers=4) as server:
                log("formList, manifest and media; /api/v1/households")
                rows += openrosa_rows(server, cadre_token)
                rows += households_api_rows(server, cadre_token)
                if kit:
                    log(f"OpenRosa ingest of {ingest_n} kit submissions, PSS sampled")
                    rows += ingest_rows(server, admin_token, ingest_n, workdir)
                else:
                    rows.append(row("scale: OpenRosa ingest", None, "", "", "skipped: no kit"))
                log("duplicates recheck, pulls beside it")
                rows += recheck_rows(server, url, cadre_token, households)
            if not skip_rebuild:
                log(f"households rebuild (stopped at {rebuild_limit:.0f} s)")
                rows += rebuild_rows(url, households, rebuild_limit)
        finally:
            if keep:
                log(f"kept schema {schema}: {url}")
            else:
                database.drop_postgres_schema(schema)
    return rows


def reuse(url: str) -> tuple[str, str, int]:
    """A kept schema measured again: new device tokens for the measured cadre and the
    admin (tokens are stored hashed), and how many households it holds (none: a schema
    that was never loaded, refused)."""
    from server.services.access import auth

    app = database.build_app(url, tempfile.mkdtemp(prefix="giupho-scale-"), LOG_LEVEL="WARNING")
    with app.app_context():
        tokens = []
        for username in (SCALE_CADRE, "admin"):
            user = db.session.scalar(sa.select(User).where(User.username == username))
            tokens.append(auth.register_device(user, "Bench tablet")[1])
        db.session.commit()
        households = db.session.scalar(sa.select(sa.func.count()).select_from(Household))
    database.dispose_app(app)
    if not households:
        raise SystemExit(f"--schema: {url} holds no households; load one with --load-only")
    return tokens[0], tokens[1], households


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.split("\n")[0])
    parser.add_argument("--households", type=int, default=1_000_000)
    parser.add_argument("--keep", action="store_true", help="keep the bench schema")
    parser.add_argument("--skip-rebuild", action="store_true")
    parser.add_argument("--rebuild-limit", type=float, default=1800.0, help="seconds")
    parser.add_argument("--ingest", type=int, default=2000, help="OpenRosa submissions")
    parser.add_argument("--templates", type=int, help="template households (default N/100)")
    parser.add_argument("--load-only", action="store_true", help="load, keep the schema, stop")
    parser.add_argument("--schema", help="measure this kept schema again instead of loading")
    args = parser.parse_args()
    from run import table

    rows = run(args.households, keep=args.keep, skip_rebuild=args.skip_rebuild,
               rebuild_limit=args.rebuild_limit, ingest_n=args.ingest,
               templates=args.templates, load_only=args.load_only,
               schema=args.schema)  # fmt: skip
    print(table(rows))


if __name__ == "__main__":
    main()
