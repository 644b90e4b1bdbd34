"""Every setting giupho reads, as one table: environment variable, default, help.

The table feeds `app.config` (see `server.create_app`), the `--help` of the
commands and the documentation, so a setting cannot exist in one and be
missing from the others. Values come from, later winning: these defaults, the
instance folder's `config.py`, the environment, and `create_app(test_config)`.
"""

from __future__ import annotations

import os
import secrets
import textwrap
from collections.abc import Callable, Mapping
from dataclasses import dataclass
from pathlib import Path
from typing import Any

MiB = 1024 * 1024


def _bool(text: str) -> bool:
    value = text.strip().lower()
    if value in {"1", "true", "yes", "on"}:
        return True
    if value in {"0", "false", "no", "off", ""}:
        return False
    raise ValueError(f"expected a yes/no value, got {text!r}")


def _log_format(text: str) -> str:
    value = text.strip().lower()
    if value not in {"text", "json"}:
        raise ValueError(f"expected text or json, got {text!r}")
    return value


def _jobs_kind(text: str) -> str:
    value = text.strip().lower()
    if value not in {"", "inprocess", "procrastinate"}:
        raise ValueError(f"expected inprocess or procrastinate, got {text!r}")
    return value


@dataclass(frozen=True)
class Setting:
    """One setting: `env` is read from the environment into `app.config[key]`."""

    env: str
    key: str
    default: Any
    help: str
    parse: Callable[[str], Any] = str


SETTINGS: tuple[Setting, ...] = (
    Setting(
        "GIUPHO_DATABASE_URL",
        "SQLALCHEMY_DATABASE_URI",
        None,
        "Database URL. Default: SQLite file giupho.sqlite3 in the instance folder. "
        "PostgreSQL: postgresql+psycopg://user:password@host/dbname.",
    ),
    Setting(
        "GIUPHO_SECRET_KEY",
        "SECRET_KEY",
        None,
        "Key that signs sessions and derives demo tokens. Default: generated once and "
        "kept in the instance folder (file secret_key).",
    ),
    Setting(
        "GIUPHO_MAX_SUBMISSION_BYTES",
        "MAX_SUBMISSION_BYTES",
        10 * MiB,
        "Largest submission request accepted, attachments included (bytes). ODK Collect "
        "splits bigger submissions over several requests.",
        int,
    ),
    Setting(
        "GIUPHO_MAX_SUBMISSION_ELEMENTS",
        "MAX_SUBMISSION_ELEMENTS",
        50_000,
        "Most XML elements one submission may hold, counted while streaming before any "
        "other work (413.4); the biggest real form's instance holds a few thousand.",
        int,
    ),
    Setting(
        "GIUPHO_MAX_SUBMISSION_DEPTH",
        "MAX_SUBMISSION_DEPTH",
        64,
        "Deepest nesting of elements (or of JSON objects and lists in a push item's "
        "answers) a submission may have (413.5).",
        int,
    ),
    Setting(
        "GIUPHO_MAX_FORM_BYTES",
        "MAX_FORM_BYTES",
        10 * MiB,
        "Largest form file (XLSForm or XForm) accepted at upload (bytes).",
        int,
    ),
    Setting(
        "GIUPHO_DATABASE_REPLICA_URL",
        "DATABASE_REPLICA_URL",
        "",
        "PostgreSQL only: a read replica's URL. Read-only requests (GET and HEAD: form "
        "lists, manifests, media, pulls, review pages, reports) read from it; every write, "
        "and every read of a request after it wrote, goes to GIUPHO_DATABASE_URL. "
        "Default: none (everything on the primary).",
    ),
    Setting(
        "GIUPHO_LAST_SEEN_FLUSH_S",
        "LAST_SEEN_FLUSH_S",
        30.0,
        "How often each process writes the devices' last use it noted (at most one write "
        "per device a minute) to the database, off the requests' path (s).",
        float,
    ),
    Setting(
        "GIUPHO_STORAGE",
        "STORAGE",
        "database",
        "Where attachments, upload chunks and export files are kept, reached by every "
        "machine: 'database' (the blobs table) or 's3://bucket/prefix' (an S3-compatible "
        "store; credentials from AWS_ACCESS_KEY_ID/AWS_SECRET_ACCESS_KEY or boto3's other "
        "sources).",
    ),
    Setting(
        "GIUPHO_S3_ENDPOINT_URL",
        "S3_ENDPOINT_URL",
        "",
        "With GIUPHO_STORAGE=s3://...: the store's address for a service other than AWS "
        "(MinIO, Ceph, a cloud's S3 API), such as https://s3.example.vn. Default: AWS.",
    ),
    Setting(
        "GIUPHO_S3_REGION",
        "S3_REGION",
        "",
        "With GIUPHO_STORAGE=s3://...: the bucket's region. Default: boto3's.",
    ),
    Setting(
        "GIUPHO_ATTACHMENT_DIR",
        "ATTACHMENT_DIR",
        None,
        "Folder where giupho kept attachments and unfinished uploads before the file store "
        "(read only by `giupho storage migrate`, which moves them into the store). Default: "
        "attachments/ in the instance folder.",
    ),
    Setting(
        "GIUPHO_SQLITE_BUSY_TIMEOUT_MS",
        "SQLITE_BUSY_TIMEOUT_MS",
        5000,
        "SQLite only: how long a writer waits for the lock before failing (ms).",
        int,
    ),
    Setting(
        "GIUPHO_SQLITE_WRITE_WAIT_S",
        "SQLITE_WRITE_WAIT_S",
        20.0,
        "SQLite only: how long a JSON sync push waits in all for the write lock while other "
        "workers write, before it is answered 503 (s). Keep it under the server's request "
        "timeout.",
        float,
    ),
    Setting(
        "GIUPHO_DB_POOL_SIZE",
        "DB_POOL_SIZE",
        5,
        "PostgreSQL only: connections kept open per worker process.",
        int,
    ),
    Setting(
        "GIUPHO_DB_PING_AFTER_IDLE_S",
        "DB_PING_AFTER_IDLE_S",
        10.0,
        "PostgreSQL only: a pooled connection unused for this long is checked (one round "
        "trip) before a request uses it, and replaced if the server dropped it (s; 0: check "
        "before every request).",
        float,
    ),
    Setting(
        "GIUPHO_ARGON2_TIME_COST",
        "ARGON2_TIME_COST",
        3,
        "Argon2 password hashing: iterations.",
        int,
    ),
    Setting(
        "GIUPHO_ARGON2_MEMORY_KIB",
        "ARGON2_MEMORY_KIB",
        65536,
        "Argon2 password hashing: memory per hash (KiB).",
        int,
    ),
    Setting(
        "GIUPHO_DEFAULT_LANGUAGE",
        "DEFAULT_LANGUAGE",
        "vi",
        "Language of messages when the client does not ask for one (vi or en).",
    ),
    Setting(
        "GIUPHO_DEMO_PASSWORD",
        "DEMO_PASSWORD",
        "giupho-demo",
        "Password given to the demo users that `seed` creates. Demo only: change it or "
        "never seed a real deployment.",
    ),
    Setting(
        "GIUPHO_PUBLIC_URL",
        "PUBLIC_URL",
        None,
        "Base URL tablets use to reach this server (for printed ODK Collect links). "
        "Default: http://127.0.0.1:PORT.",
    ),
    Setting(
        "GIUPHO_POVERTY_LOCAL_LINES",
        "POVERTY_LOCAL_LINES",
        None,
        "A JSON file of the province's own poverty lines (higher than the national ones) and "
        "the figures a provisional standard leaves open; see forms/poverty/local.py. Checked "
        "at start: the server refuses to start with a wrong file.",
    ),
    Setting(
        "GIUPHO_ALLOW_INSECURE_BASIC",
        "ALLOW_INSECURE_BASIC",
        False,
        "Accept HTTP Basic passwords on OpenRosa over plain HTTP (development and tests "
        "only: the password crosses the network readable). Without it Basic needs HTTPS.",
        _bool,
    ),
    Setting(
        "GIUPHO_OPENROSA_DIGEST",
        "OPENROSA_DIGEST",
        True,
        "Offer HTTP Digest (MD5, what ODK Collect speaks) on OpenRosa. It needs a "
        "password-equivalent MD5 per user in the database; turn it off to allow only "
        "device-token links and Basic over HTTPS.",
        _bool,
    ),
    Setting(
        "GIUPHO_SYNC_MAX_ITEMS",
        "SYNC_MAX_ITEMS",
        500,
        "JSON sync push: most submissions accepted in one batch (more gets 413).",
        int,
    ),
    Setting(
        "GIUPHO_SYNC_MAX_BYTES",
        "SYNC_MAX_BYTES",
        16 * MiB,
        "JSON sync push: largest batch after gzip decompression (bytes; more gets 413).",
        int,
    ),
    Setting(
        "GIUPHO_SECURE_COOKIES",
        "SESSION_COOKIE_SECURE",
        False,
        "Review site: send the session cookie over HTTPS only. Turn on wherever the site is "
        "served over HTTPS (every real deployment).",
        _bool,
    ),
    Setting(
        "GIUPHO_RATE_LIMIT_SENDING",
        "RATE_LIMIT_SENDING",
        "1200/minute",
        "Requests one sender (device token, or user name) may make to the sending routes "
        "(OpenRosa submissions, sync pushes, upload chunks), in the `limits` notation; more "
        "get 429 with Retry-After and are sent again by the client. Empty: no limit.",
        str,
    ),
    Setting(
        "GIUPHO_RATE_LIMIT_STORAGE",
        "RATE_LIMIT_STORAGE",
        "memory://",
        "Where rate-limit counts are kept: memory:// counts in each worker process (enough "
        "for one process, as `make run`); redis://host:6379 counts once for every worker, "
        "which a deployment with several workers should set.",
        str,
    ),
    Setting(
        "GIUPHO_PROXY_HOPS",
        "PROXY_HOPS",
        0,
        "Reverse proxies in front of the server (nginx, Caddy...) whose X-Forwarded-For, "
        "-Proto and -Host headers are trusted: the client's address (sign-in lock-out, "
        "audit) and HTTPS (Basic, links) are read from that many hops. 0: none are trusted "
        "(serving directly). Set it to the number of proxies, never more: a client could "
        "then claim any address.",
        int,
    ),
    Setting(
        "GIUPHO_SESSION_HOURS",
        "WEB_SESSION_HOURS",
        12,
        "Review site: hours a sign-in lasts at most, however active (absolute lifetime).",
        int,
    ),
    Setting(
        "GIUPHO_SESSION_IDLE_MINUTES",
        "WEB_SESSION_IDLE_MINUTES",
        120,
        "Review site: minutes without a request after which a sign-in ends.",
        int,
    ),
    Setting(
        "GIUPHO_SIGNIN_MAX_FAILURES",
        "SIGNIN_MAX_FAILURES",
        5,
        "Failed sign-ins (per user name and address; site, API Basic, OpenRosa Basic and "
        "Digest together) that lock the name out on all of them.",
        int,
    ),
    Setting(
        "GIUPHO_SIGNIN_LOCK_MINUTES",
        "SIGNIN_LOCK_MINUTES",
        15,
        "Review site: the window in which failures count, and how long a lock-out lasts (min).",
        int,
    ),
    Setting(
        "GIUPHO_TIMEZONE",
        "TIMEZONE",
        "Asia/Ho_Chi_Minh",
        "Time zone the review site shows times in and counts months by.",
    ),
    Setting(
        "GIUPHO_HOLD_TIMEOUT_HOURS",
        "HOLD_TIMEOUT_HOURS",
        120.0,
        "How long a household update waits for the earlier update of its offline chain, or "
        "for its household's registration, before it is applied anyway and the household "
        "flagged (hours; ODK Central waits 5 days). Applied on the next update of the "
        "household and by `giupho households release`.",
        float,
    ),
    Setting(
        "GIUPHO_UPLOAD_MAX_BYTES",
        "UPLOAD_MAX_BYTES",
        50 * 1024 * 1024,
        "Largest attachment (photo) a tablet may upload through a resumable upload session, "
        "in bytes (contract C3).",
        int,
    ),
    Setting(
        "GIUPHO_UPLOAD_MAX_CHUNK",
        "UPLOAD_MAX_CHUNK",
        4 * 1024 * 1024,
        "Largest chunk of a resumable upload in one request, in bytes.",
        int,
    ),
    Setting(
        "GIUPHO_UPLOAD_EXPIRY_DAYS",
        "UPLOAD_EXPIRY_DAYS",
        30.0,
        "Days after its last chunk an unfinished upload is deleted with its chunks (daily "
        "job); the tablet still has the file and sends it again in a new upload.",
        float,
    ),
    Setting(
        "GIUPHO_EXPORT_DIR",
        "EXPORT_DIR",
        "",
        "Local working folder where an export is written before it goes to the file store "
        "(GIUPHO_STORAGE) and where a small one waits while it is sent (default: the "
        "instance's exports/).",
    ),
    Setting(
        "GIUPHO_EXPORT_KEEP_HOURS",
        "EXPORT_KEEP_HOURS",
        24.0,
        "Hours an export's file is kept after it was made; then it is removed.",
        float,
    ),
    # Batch work (`server.jobs`): exports, the household rebuild, the duplicate recheck.
    Setting(
        "GIUPHO_JOBS",
        "JOBS",
        "",
        "Who runs batch work: procrastinate (a queue in the PostgreSQL database, run by "
        "`giupho worker` processes) or inprocess (threads of the process that asks, for one "
        "laptop). Default: procrastinate on PostgreSQL, inprocess on SQLite.",
        _jobs_kind,
    ),
    Setting(
        "GIUPHO_JOBS_THREADS",
        "JOBS_THREADS",
        1,
        "inprocess only: threads per process that run batch work (exports) in the background.",
        int,
    ),
    Setting(
        "GIUPHO_JOBS_POOL_SIZE",
        "JOBS_POOL_SIZE",
        2,
        "procrastinate only: most connections per process that defers jobs or runs a worker.",
        int,
    ),
    Setting(
        "GIUPHO_JOBS_POLL_S",
        "JOBS_POLL_S",
        5.0,
        "procrastinate only: most seconds a worker waits before looking for jobs again (it "
        "is also woken at once by PostgreSQL's LISTEN/NOTIFY).",
        float,
    ),
    Setting(
        "GIUPHO_JOBS_STALLED_S",
        "JOBS_STALLED_S",
        30.0,
        "procrastinate only: a worker silent this long (killed, its machine lost) is taken "
        "for dead and its running job queued again (s).",
        float,
    ),
    Setting(
        "GIUPHO_EXPORT_DIRECT_MAX_ROWS",
        "EXPORT_DIRECT_MAX_ROWS",
        20_000,
        "Largest export (rows of its main table) sent straight to the browser; a larger one "
        "is made in the background with its progress shown.",
        int,
    ),
    # Token-visit monitoring (issue 16): the checks' thresholds (`server.services.monitoring`).
    # Share of the demo data's 36 visits each check flags with these defaults (`make run`,
    # 2026-12-06): short 11.1 %, far 8.3 %, no_location 41.7 % (the seed's support visits
    # carry no GPS), fast_run 11.1 %, copied 2.8 %, backdated 0 %, clock_jump 0 %; one
    # agency of one flagged token_agency, no household neglected (the pairs are new).
    Setting(
        "GIUPHO_MONITORING_MIN_VISIT_MINUTES",
        "MONITORING_MIN_VISIT_MINUTES",
        5.0,
        "A visit shorter than this, in minutes, is flagged 'too short': the time on questions "
        "from the audit log when the tablet sent one, else the time between start and end.",
        float,
    ),
    Setting(
        "GIUPHO_MONITORING_MAX_DISTANCE_M",
        "MONITORING_MAX_DISTANCE_M",
        300.0,
        "A visit recorded farther than this, in metres, from the household's known location "
        "(plus the GPS fix's own accuracy) is flagged 'far from the household'.",
        float,
    ),
    Setting(
        "GIUPHO_MONITORING_RUN_VISITS",
        "MONITORING_RUN_VISITS",
        4,
        "A run of this many households visited by one cadre from one place within "
        "MONITORING_RUN_MINUTES is flagged 'run of visits too fast'.",
        int,
    ),
    Setting(
        "GIUPHO_MONITORING_RUN_MINUTES",
        "MONITORING_RUN_MINUTES",
        30.0,
        "The span, in minutes from the first visit's start to the last's, of a fast run.",
        float,
    ),
    Setting(
        "GIUPHO_MONITORING_RUN_METRES",
        "MONITORING_RUN_METRES",
        50.0,
        "How close, in metres, the visits of a fast run are to the first one ('one place').",
        float,
    ),
    Setting(
        "GIUPHO_MONITORING_COPIED_SHARE",
        "MONITORING_COPIED_SHARE",
        0.99,
        "A visit whose compared answers are this share or more the same as the household's "
        "previous visit is flagged 'answers copied'. The default flags only a visit whose every "
        "answer is the same: an honest revisit changes one answer as often as a copy does.",
        float,
    ),
    Setting(
        "GIUPHO_MONITORING_COPIED_MIN_ANSWERS",
        "MONITORING_COPIED_MIN_ANSWERS",
        10,
        "Fewest answers two visits must share for the copied-answers check to compare them.",
        int,
    ),
    Setting(
        "GIUPHO_MONITORING_MAX_BACKDATED_DAYS",
        "MONITORING_MAX_BACKDATED_DAYS",
        30.0,
        "A visit started more than this many days before the server received it (on the "
        "server's clock) is flagged 'backdated'.",
        float,
    ),
    Setting(
        "GIUPHO_MONITORING_CLOCK_JUMP_MINUTES",
        "MONITORING_CLOCK_JUMP_MINUTES",
        120.0,
        "A visit whose tablet clock offset is this many minutes away from the tablet's usual "
        "offset (the median of its other visits) is flagged 'tablet clock jumped'.",
        float,
    ),
    Setting(
        "GIUPHO_MONITORING_NEGLECTED_MONTHS",
        "MONITORING_NEGLECTED_MONTHS",
        3,
        "A household paired with a cadre or an agency and not visited for this many months "
        "is flagged 'household not visited'.",
        int,
    ),
    Setting(
        "GIUPHO_MONITORING_AGENCY_SHARE",
        "MONITORING_AGENCY_SHARE",
        0.5,
        "An agency whose stays in a commune, up to the day checked, are fewer or shorter than "
        "this share of its plan for the year (pro rata) is flagged 'agency visits few or short'.",
        float,
    ),
    Setting(
        "GIUPHO_MONITORING_LOOKBACK_DAYS",
        "MONITORING_LOOKBACK_DAYS",
        62,
        "Days of visits before the day checked that a run of the checks looks at.",
        int,
    ),
    Setting("GIUPHO_LOG_LEVEL", "LOG_LEVEL", "INFO", "Logging level: DEBUG, INFO, WARNING, ERROR."),
    Setting(
        "GIUPHO_LOG_FORMAT",
        "LOG_FORMAT",
        "text",
        "Format of the request log: text, or json (one object per line, for a log collector).",
        _log_format,
    ),
    Setting(
        "GIUPHO_REQUEST_LOG",
        "REQUEST_LOG",
        False,
        "Write one line per request (route, status, time, user, request id; no secrets) to "
        "standard error.",
        _bool,
    ),
    Setting(
        "GIUPHO_METRICS_TOKEN",
        "METRICS_TOKEN",
        "",
        "Token Prometheus sends (Authorization: Bearer) to read /metrics; without one, only "
        "the machine itself may read /metrics. With several gunicorn workers also set "
        "PROMETHEUS_MULTIPROC_DIR to an empty folder.",
    ),
    Setting(
        "GIUPHO_SQL_ECHO",
        "SQLALCHEMY_ECHO",
        False,
        "Log every SQL statement (debugging only).",
        _bool,
    ),
)


def defaults() -> dict[str, Any]:
    """The default of every setting, by config key."""
    return {s.key: s.default for s in SETTINGS}


def from_environ(environ: Mapping[str, str] | None = None) -> dict[str, Any]:
    """The settings present in the environment, parsed, by config key.

    A value that does not parse raises ValueError naming the variable, so a
    typo stops the server at start instead of misconfiguring it.
    """
    environ = os.environ if environ is None else environ
    found = {}
    for setting in SETTINGS:
        raw = environ.get(setting.env)
        if raw is None:
            continue
        try:
            found[setting.key] = setting.parse(raw)
        except ValueError as exc:
            raise ValueError(f"{setting.env}: {exc}") from None
    return found


def normalise_database_url(url: str) -> str:
    """Route bare `postgresql://` URLs to psycopg 3, the only PostgreSQL driver installed."""
    for prefix in ("postgres://", "postgresql://"):
        if url.startswith(prefix):
            return "postgresql+psycopg://" + url[len(prefix) :]
    return url


def fill_instance_defaults(config: dict[str, Any], instance_path: str) -> None:
    """Fill the settings whose default lives in the instance folder, creating what is needed."""
    instance = Path(instance_path)
    if not config.get("SQLALCHEMY_DATABASE_URI"):
        instance.mkdir(parents=True, exist_ok=True)
        config["SQLALCHEMY_DATABASE_URI"] = f"sqlite:///{instance / 'giupho.sqlite3'}"
    config["SQLALCHEMY_DATABASE_URI"] = normalise_database_url(config["SQLALCHEMY_DATABASE_URI"])
    if not config.get("ATTACHMENT_DIR"):
        config["ATTACHMENT_DIR"] = str(instance / "attachments")
    if not config.get("EXPORT_DIR"):
        config["EXPORT_DIR"] = str(instance / "exports")
    if not config.get("SECRET_KEY"):
        config["SECRET_KEY"] = stored_secret_key(instance / "secret_key")


def stored_secret_key(path: Path) -> str:
    """The secret key kept at `path`, generated (readable by the owner only) on first use."""
    if path.exists():
        return path.read_text(encoding="ascii").strip()
    path.parent.mkdir(parents=True, exist_ok=True)
    # Written aside then linked into place: two workers starting at once must neither
    # read a half-written file nor end up with two different keys.
    tmp = path.with_name(f".{path.name}.{os.getpid()}.{secrets.token_hex(4)}")
    fd = os.open(tmp, os.O_WRONLY | os.O_CREAT | os.O_EXCL, 0o600)
    with os.fdopen(fd, "w", encoding="ascii") as handle:
        handle.write(secrets.token_urlsafe(48))
    try:
        os.link(tmp, path)
    except FileExistsError:
        pass
    finally:
        tmp.unlink()
    return path.read_text(encoding="ascii").strip()


def help_text() -> str:
    """The settings table as plain text, for `--help` epilogues and the docs.

    Starts with click's no-rewrap marker so the table keeps its layout in `--help`.
    """
    lines = ["\b", "Settings (environment variables):"]
    for s in SETTINGS:
        default = "see text" if s.default is None else repr(s.default)
        lines.append(f"  {s.env} (default: {default})")
        lines += textwrap.wrap(
            s.help, width=76, initial_indent="      ", subsequent_indent="      "
        )
    return "\n".join(lines)
