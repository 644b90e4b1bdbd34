"""Benchmark: ingest over OpenRosa and the JSON sync API, SQLite and PostgreSQL side by side.

For each backend, in one run: a fresh database (migrated, test places and
users, the shipped forms, and the load kit's `household_visit.xml` uploaded
and published), then gunicorn with 4 sync workers on a loopback port, then

1. OpenRosa: the shared load generator (`odk_loadgen.py run`, its README) posts
   N generated visits with 4 concurrent clients to `/key/<token>/submission`,
   one submission per request as ODK Collect sends them, after an untimed warm-up of
   `WARM_UP` others (`warm_up`);
2. JSON: the same kind of visits (same generator and seed, fresh instance ids)
   pushed to `/api/v1/sync/push` as gzip batches by 4 concurrent clients;
3. JSON with households (issue: households): registrations with the shipped form,
   then two offline visits of each household from version 1, so that half the
   visits are applied on the current version and half are three-way merges;

measuring stored submissions per second of wall time, request bytes per
submission (body and headers) and the peak resident memory of the gunicorn
master and workers together; and, before each backend's runs, how fast the
machine is right now (`machine_speed_us`), to compare runs on a shared machine.
Bounded: fixed counts, loopback only, a time limit on every run and a timeout on
every request.

Reference: ODK Central ingested 104 submissions/s over OpenRosa with 4
clients on this machine (measured with the same load generator).

Run alone: `.venv/bin/python bench/ingest.py [--backends sqlite,postgres] [-n 2000]`.
"""

from __future__ import annotations

import argparse
import gzip
import importlib.util
import json
import os
import subprocess
import sys
import tempfile
import threading
import time
import uuid
from dataclasses import dataclass, field
from datetime import UTC, datetime
from pathlib import Path

HERE = Path(__file__).resolve().parent
sys.path[:0] = [str(HERE.parent), str(HERE)]

import requests  # noqa: E402

from forms.errors import SubmissionError  # noqa: E402
from forms.instance import parse_submission, to_answers  # noqa: E402
from forms.load import load_form  # noqa: E402
from forms.validation import validate  # noqa: E402
from server.services.forms import publishing as form_service  # noqa: E402
from tests.integration import database  # noqa: E402
from tests.integration.live import (  # noqa: E402
    LiveServer,
    World,
    populate_world,
    prepare_database,
    process_cpu_seconds,
)
from tests.shared import BENCH_KIT  # noqa: E402

KIT = BENCH_KIT  # the ODK Central load kit, from the shared material (GIUPHO_SHARED)
KIT_FORM = KIT / "household_visit.xml"
DEFAULT_POSTGRES = "postgresql+psycopg://postgres@127.0.0.1:5432/test"
CENTRAL_OPENROSA = "ODK Central: 104 /s"
CLIENTS = 4
BATCH = 100
TIME_LIMIT_S = 120
REQUEST_TIMEOUT_S = 60


def load_kit_module(name: str):
    """Import one of the kit's scripts (they are files, not an installed package)."""
    spec = importlib.util.spec_from_file_location(name, KIT / f"{name}.py")
    module = importlib.util.module_from_spec(spec)
    sys.path.insert(0, str(KIT))
    spec.loader.exec_module(module)
    return module


def populate_bench() -> World:
    """The test world plus the kit's form, published for everyone."""
    world = populate_world()
    result = form_service.upload(KIT_FORM.read_bytes(), KIT_FORM.name, None)
    form_service.publish(None, result.version.form.form_id, result.version.version)
    return world


PSS_EVERY = 5  # samples of RSS per sample of PSS


class MemoryPeak(threading.Thread):
    """Samples the server's memory (master + workers) while a run lasts: resident (RSS,
    which counts a page shared by the workers once in each) and proportional (PSS, which
    shares it out: the memory the server really holds)."""

    def __init__(self, server: LiveServer, interval: float = 0.2) -> None:
        super().__init__(daemon=True)
        self.server, self.interval, self.peak, self.pss_peak = server, interval, 0, 0
        self.done = threading.Event()

    def run(self) -> None:
        tick = 0
        while not self.done.is_set():
            self.peak = max(self.peak, self.server.rss_bytes())
            if tick % PSS_EVERY == 0:  # PSS walks every page table: a few ms per process
                self.pss_peak = max(self.pss_peak, self.server.pss_bytes())
            tick += 1
            self.done.wait(self.interval)
        self.pss_peak = max(self.pss_peak, self.server.pss_bytes())  # at the end of the run

    def __enter__(self) -> MemoryPeak:
        self.start()
        return self

    def __exit__(self, *_exc) -> None:
        self.done.set()
        self.join()


@dataclass
class Measure:
    """What one protocol run on one backend gave."""

    stored: int = 0
    sent: int = 0
    wall_s: float = 0.0
    cpu_s: float = 0.0  # CPU time of the gunicorn processes during the run
    db_cpu_s: float | None = None  # CPU time of this machine's PostgreSQL during the run
    bytes_per_submission: float = 0.0
    statuses: dict[str, int] = field(default_factory=dict)

    @property
    def rate(self) -> float:
        return self.stored / self.wall_s if self.wall_s else 0.0

    @property
    def cpu_ms(self) -> float:
        """Server CPU per stored submission: a figure other load on the machine barely moves."""
        return self.cpu_s * 1000 / self.stored if self.stored else 0.0

    @property
    def db_cpu_ms(self) -> float | None:
        """PostgreSQL's CPU per stored submission (it runs on the same cores)."""
        if self.db_cpu_s is None or not self.stored:
            return None
        return self.db_cpu_s * 1000 / self.stored


def openrosa_run(server: LiveServer, token: str, n: int, workdir: Path, seed: int = 1) -> Measure:
    """The shared load generator against the OpenRosa submission URL."""
    out = workdir / "openrosa.json"
    command = [
        sys.executable, str(KIT / "odk_loadgen.py"), "run",
        "--url", f"{server.url}/key/{token}/submission",
        "--form", str(KIT_FORM), "-n", str(n), "-c", str(CLIENTS), "--seed", str(seed),
        "--time-limit", str(TIME_LIMIT_S), "--timeout", str(REQUEST_TIMEOUT_S),
        "--compact", "--json-out", str(out),
    ]  # fmt: skip
    subprocess.run(command, capture_output=True, timeout=TIME_LIMIT_S * 3, check=False)
    summary = json.loads(out.read_text())
    if summary["errors_sample"]:
        print(f"  openrosa errors: {summary['errors_sample'][:2]}", file=sys.stderr)
    per_request = summary["request_body_bytes"]["mean"] + summary["request_header_bytes_mean"]
    return Measure(
        stored=summary["n_ok"],
        sent=summary["n_sent"],
        wall_s=summary["wall_s"],
        bytes_per_submission=per_request,
        statuses=summary["status_codes"],
    )


#: OpenRosa submissions sent before the timed run (`warm_up`).
WARM_UP = 200


def warm_up(server: LiveServer, token: str, workdir: Path) -> None:
    """Send `WARM_UP` submissions of another seed (other instance ids) untimed, so that the
    timed run meets a server whose workers have loaded and compiled the form, as one that
    has been up a while has. A fresh server's first run cost about a fifth more server CPU
    per submission (2026-12-07: 11.1 against 9.1 and 9.6 ms on the next two runs of 1,000)."""
    openrosa_run(server, token, WARM_UP, workdir, seed=2)


def kit_documents(n: int, prefix: str) -> list[tuple[str, bytes]]:
    """`n` (instance id, XML) of the kit's generator (seed 1), with instance ids of our own."""
    generator_module = load_kit_module("xform_instances")
    kit_form = KIT_FORM.read_bytes()
    generator = generator_module.InstanceGenerator(generator_module.FormModel(kit_form), seed=1)
    documents = []
    for i in range(n):
        instance_id = f"uuid:{uuid.uuid5(uuid.NAMESPACE_URL, f'{prefix}-{i}')}"
        documents.append((instance_id, generator.document(instance_id)[1].encode("utf-8")))
    return documents


def machine_speed_us() -> float:
    """CPU microseconds this process takes to parse and validate one kit submission (best
    of several passes over 200): the same work in every run, measured just before a
    backend's runs, so that runs on a shared machine, whose speed drifts by up to half
    from one hour to the next, can be compared. Ingest rates move inversely with it."""
    from forms_validate import rate

    form = load_form(KIT_FORM)
    documents = [xml for _id, xml in kit_documents(200, "giupho-bench-speed")]
    now = datetime.now(UTC)
    per_second = rate(lambda xml: validate(form, parse_submission(xml).root, now=now),
                      documents, seconds=1.0)  # fmt: skip
    return 1e6 / per_second


def json_batches(n: int) -> list[bytes]:
    """`n` generated visits as gzip push bodies of `BATCH` items (built before timing)."""
    form = load_form(KIT_FORM)
    now = datetime.now(UTC).isoformat()
    items = []
    for instance_id, xml in kit_documents(n, "giupho-bench-json"):
        root = parse_submission(xml).root
        items.append({
            "instance_id": instance_id, "form_id": form.form_id, "version": form.version,
            "deprecated_id": None, "answers": to_answers(root, form),
            "device_time": now, "clock_offset_ms": 0,
        })  # fmt: skip
    return _bodies(items)


BOOKS = {"support_kind": "books", "support_quantity": "3", "support_value": "450000",
         "support_source": "organisation", "support_giver": "Hội Khuyến học xã",
         "support_pupils": "2"}  # fmt: skip
CALF = {"support_kind": "cattle", "support_quantity": "1", "support_value": "15000000",
        "support_source": "cadre", "support_date": "2026-02-20"}  # fmt: skip


def household_batches(households: int) -> tuple[list[bytes], list[bytes]]:
    """Registrations of `households` households with the shipped forms, then two visits of
    each made offline from version 1 (one changes the household size, the other the phone):
    whichever arrives first is the fast path, the other a three-way merge (H2, H3).
    Distinct names and phones, so that duplicate detection opens no case between them. Half
    the first visits record support (books for two pupils; a calf as well in one visit of four), so
    the ledger's entries are written, and the form's catalogue look-ups computed, as in the
    field."""
    from tests.integration.contract.drivers import answers_item
    from tests.integration.contract.submissions import registration, visit

    registered, first, second = [], [], []
    # Names as people have them (no digits: name keys fold them away, as they fold a Telex
    # leftover), distinct for up to 20 x 60 households, so each household's name key is its own.
    # fmt: off
    families = ("Lò", "Nguyễn", "Trần", "Lê", "Phạm", "Hoàng", "Vũ", "Đặng", "Bùi", "Đỗ",
                "Hồ", "Ngô", "Dương", "Lý", "Giàng", "Vàng", "Mùa", "Sùng", "Quàng", "Cầm")
    givens = ("An", "Bình", "Cường", "Dũng", "Đạt", "Giang", "Hải", "Hùng", "Khánh", "Lâm",
              "Long", "Minh", "Nam", "Nghĩa", "Phong", "Phúc", "Quang", "Quý", "Sơn", "Tài",
              "Thắng", "Thành", "Thịnh", "Tiến", "Toàn", "Trung", "Tuấn", "Việt", "Vinh", "Xuân",
              "Chiến", "Công", "Định", "Đức", "Hiếu", "Hoà", "Huy", "Kiên", "Lộc", "Lợi",
              "Mạnh", "Nhân", "Ninh", "Pháp", "Quân", "Sáng", "Tâm", "Thái", "Thiện", "Thuận",
              "Tín", "Trọng", "Tú", "Vĩnh", "Vượng", "Yên", "Bảo", "Chính", "Hậu", "Khải")
    # fmt: on
    for number in range(households):
        head = f"{families[number % 20]} Văn {givens[number // 20 % 60]}"
        hid = str(uuid.uuid5(uuid.NAMESPACE_URL, f"giupho-bench-household-{number}"))
        village = "03325_01" if number % 2 else "03325_02"
        registered.append(answers_item(registration(
            household_id=hid, head_name=head, village=village,
            head__phone=f"09{number:08d}",
        )))  # fmt: skip
        support = {1: [BOOKS], 3: [BOOKS, CALF]}.get(number % 4, [])
        first.append(answers_item(visit(hid, base_version=1, visited__hh_size="5",
                                        support=support or None)))  # fmt: skip
        second.append(answers_item(visit(hid, base_version=1, head__phone=f"08{number:08d}")))
    # As two cadres' tablets send them: each batch holds one cadre's visits.
    return _bodies(registered), _bodies(first) + _bodies(second)


def _bodies(items: list[dict]) -> list[bytes]:
    return [
        gzip.compress(json.dumps({"items": items[i : i + BATCH]}).encode("utf-8"))
        for i in range(0, len(items), BATCH)
    ]


def json_run(server: LiveServer, token: str, bodies: list[bytes]) -> Measure:
    """Push every batch with `CLIENTS` concurrent sessions; count stored items."""
    kit_loadgen = load_kit_module("odk_loadgen")
    measure = Measure()
    lock = threading.Lock()
    queue = list(reversed(bodies))
    deadline = time.monotonic() + TIME_LIMIT_S
    headers = {
        "Authorization": f"Bearer {token}",
        "Content-Type": "application/json",
        "Content-Encoding": "gzip",
    }
    wire = []

    def client() -> None:
        session = requests.Session()
        while True:
            with lock:
                if not queue or time.monotonic() > deadline:
                    return
                body = queue.pop()
            request = session.prepare_request(
                requests.Request(
                    "POST", f"{server.url}/api/v1/sync/push", data=body, headers=headers
                )
            )
            try:
                response = session.send(request, timeout=REQUEST_TIMEOUT_S)
                key = str(response.status_code)
                results = response.json().get("results", []) if response.ok else []
            except (requests.RequestException, ValueError) as exc:
                key, results = type(exc).__name__, []
            with lock:
                wire.append(len(body) + kit_loadgen.header_bytes(request))
                measure.statuses[key] = measure.statuses.get(key, 0) + 1
                measure.sent += BATCH
                measure.stored += sum(r["result"] in ("accepted", "invalid") for r in results)

    threads = [threading.Thread(target=client) for _ in range(CLIENTS)]
    started = time.perf_counter()
    for thread in threads:
        thread.start()
    for thread in threads:
        thread.join()
    measure.wall_s = time.perf_counter() - started
    measure.bytes_per_submission = sum(wire) / max(measure.sent, 1)
    return measure


def timed(server: LiveServer, run_once, postgres: bool) -> Measure:
    """`run_once()`, with the server's CPU time during it recorded in the measure (and
    PostgreSQL's, when it is the backend)."""
    before, db_before = server.cpu_seconds(), postgres_cpu_seconds() if postgres else None
    measure = run_once()
    measure.cpu_s = server.cpu_seconds() - before
    if db_before is not None:
        measure.db_cpu_s = postgres_cpu_seconds() - db_before
    return measure


def postgres_cpu_seconds() -> float:
    """CPU time used so far by this machine's PostgreSQL processes (0 when it runs
    elsewhere: the figure is then left out of the table)."""
    total = 0.0
    for comm in Path("/proc").glob("[0-9]*/comm"):
        try:
            if comm.read_text().strip() == "postgres":
                total += process_cpu_seconds(int(comm.parent.name))
        except OSError:  # the process ended meanwhile
            continue
    return total


def postgres_base() -> str | None:
    """The PostgreSQL server to use, or None when none answers."""
    url = os.environ.get("GIUPHO_BENCH_POSTGRES_URL") or os.environ.get(
        database.POSTGRES_ENV, DEFAULT_POSTGRES
    )
    try:
        import sqlalchemy as sa

        engine = sa.create_engine(url)
        with engine.connect():
            pass
        engine.dispose()
    except Exception as exc:  # any failure to connect means: no PostgreSQL on this machine
        print(f"  PostgreSQL unavailable ({type(exc).__name__}); skipped", file=sys.stderr)
        return None
    return url


def bench_backend(backend: str, n: int, workdir: Path) -> dict | None:
    """Both protocols on one backend; None when the backend is unavailable."""
    schema = None
    if backend == "sqlite":
        url = f"sqlite:///{workdir / 'bench.sqlite3'}"
    else:
        base = postgres_base()
        if base is None:
            return None
        os.environ[database.POSTGRES_ENV] = base
        schema, url = database.make_postgres_schema("giupho_bench")
    try:
        world = prepare_database(url, workdir, populate_bench)
        # The kit's visits name Kenyan places the server does not know; only an admin may
        # send records for unknown places, so the admin's device sends them.
        token = world.tokens["admin"]
        bodies = json_batches(n * 2)
        registered, visits = household_batches(n // 2)
        cadre = world.tokens["cadre_a"]  # the shipped forms' households are in cadre_a's villages
        speed_us = machine_speed_us()
        with LiveServer(url, workdir, workers=4) as server, MemoryPeak(server) as rss:
            idle, pss_idle = server.rss_bytes(), server.pss_bytes()
            on_pg = backend == "postgres"
            warm_up(server, token, workdir)
            openrosa = timed(server, lambda: openrosa_run(server, token, n, workdir), on_pg)
            pushed = timed(server, lambda: json_run(server, token, bodies), on_pg)
            created = timed(server, lambda: json_run(server, cadre, registered), on_pg)
            merged = timed(server, lambda: json_run(server, cadre, visits), on_pg)
        return {
            "openrosa": openrosa,
            "json": pushed,
            "created": created,
            "merged": merged,
            "rss_peak": rss.peak,
            "rss_idle": idle,
            "pss_peak": rss.pss_peak,
            "pss_idle": pss_idle,
            "speed_us": speed_us,
        }
    finally:
        if schema is not None:
            database.drop_postgres_schema(schema)


def rows_for(backend: str, result: dict) -> list[dict]:
    openrosa, pushed = result["openrosa"], result["json"]
    created, merged = result["created"], result["merged"]
    ratio = pushed.bytes_per_submission / openrosa.bytes_per_submission
    return [
        row(f"OpenRosa ingest, 4 clients ({backend})", openrosa.rate, "/s", "≥ 300 /s",
            f"{CENTRAL_OPENROSA}; {openrosa.stored}/{openrosa.sent} stored {openrosa.statuses}"),
        row(f"JSON batch ingest, 4 clients ({backend})", pushed.rate, "/s", "≥ 2,000 /s",
            f"{pushed.stored}/{pushed.sent} stored, batches of {BATCH}, gzip {pushed.statuses}"),
        row(f"OpenRosa server CPU per submission ({backend})", openrosa.cpu_ms, "ms", "",
            f"gunicorn only; {2000 / openrosa.cpu_ms if openrosa.cpu_ms else 0:.0f} /s on 2 cores"),
        row(f"JSON server CPU per submission ({backend})", pushed.cpu_ms, "ms", "",
            f"gunicorn only; {2000 / pushed.cpu_ms if pushed.cpu_ms else 0:.0f} /s on 2 cores"),
        row(f"OpenRosa request bytes per submission ({backend})",
            openrosa.bytes_per_submission, "B", "", "multipart XML + headers"),
        row(f"JSON request bytes per submission ({backend})", pushed.bytes_per_submission, "B",
            "≤ 1/4 of OpenRosa", f"{ratio:.2f} of OpenRosa"),
        row(f"JSON ingest, households created, 4 clients ({backend})", created.rate, "/s", "",
            f"{created.stored}/{created.sent} registrations, shipped form {created.statuses}"),
        row(f"JSON ingest, visits updating and merging households ({backend})", merged.rate,
            "/s", "≥ 1,000 /s", f"{merged.stored}/{merged.sent} visits, half of them three-way "
            f"merges {merged.statuses}"),
        row(f"JSON server CPU per visit, households merged ({backend})", merged.cpu_ms, "ms",
            "", "gunicorn only"),
        *([row(f"PostgreSQL CPU per OpenRosa submission ({backend})", openrosa.db_cpu_ms,
               "ms", "", f"JSON item {_ms(pushed.db_cpu_ms)}, visit {_ms(merged.db_cpu_ms)}; "
               "the database's own processes, on the same cores")]
          if openrosa.db_cpu_ms is not None else []),
        row(f"server RSS, master + 4 workers, peak ({backend})", result["rss_peak"] / 2**20,
            "MiB", "", f"idle {result['rss_idle'] / 2**20:.0f} MiB; counts shared pages in "
            "every process"),
        row(f"server PSS, master + 4 workers, peak ({backend})", result["pss_peak"] / 2**20,
            "MiB", "≤ 312 MiB", f"idle {result['pss_idle'] / 2**20:.0f} MiB; ODK Central's "
            "one process: 312 MiB RSS on the same workload"),
        row(f"machine speed: parse + validate one kit submission ({backend})",
            result["speed_us"], "µs", "", "CPU, bench process alone, before the runs; rates "
            "move inversely with it"),
    ]  # fmt: skip


def _ms(value: float | None) -> str:
    return "–" if value is None else f"{value:.2f} ms"


def row(name: str, measured: float | None, unit: str, target: str, reference: str) -> dict:
    """One line of the benchmark table."""
    return dict(name=name, measured=measured, unit=unit, target=target, reference=reference)


def element_bomb_refusal_ms() -> float:
    """CPU ms to refuse an 8 MB submission of 2 million empty elements (issue 13, finding 4):
    the streaming count stops at the limit before any tree is built."""
    bomb = b'<data id="giupho_household_registration">' + b"<a/>" * 2_000_000 + b"</data>"
    started = time.process_time()
    try:
        parse_submission(bomb)
    except SubmissionError as exc:
        assert exc.code == "too_many_elements", exc.code
    else:
        raise AssertionError("the element bomb was parsed")
    return (time.process_time() - started) * 1000


def run(backends: tuple[str, ...] = ("sqlite", "postgres"), n: int = 2000) -> list[dict]:
    """Rows for `bench/run.py`: both protocols on every available backend."""
    rows = [
        row(
            "refusing a 2-million-element submission (8 MB)",
            element_bomb_refusal_ms(),
            "ms CPU",
            "cheap",
            "before the limit: 30 s of a worker, then 500",
        )
    ]
    for backend in backends:
        with tempfile.TemporaryDirectory(prefix=f"giupho-bench-{backend}-") as tmp:
            result = bench_backend(backend, n, Path(tmp))
        if result is None:
            rows.append(row(f"ingest ({backend})", None, "", "", "skipped: no database server"))
        else:
            rows += rows_for(backend, result)
    return rows


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.split("\n")[0])
    parser.add_argument("--backends", default="sqlite,postgres")
    parser.add_argument("-n", type=int, default=2000, help="OpenRosa submissions (JSON: twice)")
    args = parser.parse_args()
    from run import table

    print(table(run(tuple(args.backends.split(",")), args.n)))


if __name__ == "__main__":
    main()
