"""Duplicate households (sync contract D1-D4): the hooks the household service calls.

The household service (`server.services.households.versions`) calls these inside the
ingest transaction, so a submission and its duplicate flags commit together
(R8):

- `exact_match` before a registration creates a household (D1): the id of the household
  in the same commune with the same official household code or head's CCCD. It also
  records the automatic link (a case with status `auto_linked`, which a reviewer can
  undo); the caller applies the registration to that household as an update. A pair whose
  link a reviewer undid (`unlinked`) is never linked again;
- `registered` after a household is created: stores its profile and blocking keys, finds
  candidates through the key table only (never a scan of all households), scores them
  and puts it with its candidates at or above the threshold in one case (D2): it joins an
  open case one of them is in (a group, `Groups`), or opens one. Households that share a
  case, whatever its state, are not suggested together again;
- `updated` after a household gets a new version: re-indexes its keys when what
  duplicate detection reads of it changed;
- `double_entry` for every submission applied to a household (D4).

The matching itself (names, keys, score) is pure code in `server.dedup`.
"""

from __future__ import annotations

import collections
import contextlib
import dataclasses
import datetime as dt
import queue
from concurrent.futures import ThreadPoolExecutor

import sqlalchemy as sa

from server.db import among, db
from server.dedup.fingerprint import answers_fingerprint
from server.dedup.keys import (
    PROPERTY_NAMES,
    Profile,
    discriminating,
    distance_m,
    exact_keys,
    index_keys,
    probe_keys,
    search_text,
)
from server.dedup.keys import profile_from as _profile_from
from server.dedup.score import Score, candidate, score
from server.models import (
    AnswerFingerprint,
    CaseStatus,
    DoubleEntry,
    DoubleEntryStatus,
    DuplicateCase,
    DuplicateCaseMember,
    DuplicateKey,
    DuplicateProfile,
    FormVersion,
    Household,
    HouseholdStatus,
    Submission,
)
from server.models.base import utcnow
from server.services import audit, transactional
from server.services.forms.places import Place
from server.services.receiving.store import RowsUpdate, insert_rows, update_rows

KEYS = DuplicateKey.__table__
PROFILES = DuplicateProfile.__table__
CASES = DuplicateCase.__table__
MEMBERS = DuplicateCaseMember.__table__
HOUSEHOLDS = Household.__table__
FINGERPRINTS = AnswerFingerprint.__table__
DOUBLES = DoubleEntry.__table__

#: Household properties duplicate detection reads: a version that sets none skips `updated`.
WATCHED = frozenset(PROPERTY_NAMES.values())
#: Submissions of one user this close in time may be double entries (D4).
DOUBLE_ENTRY_WINDOW = dt.timedelta(days=1)
#: At most this many candidates are scored for one household (the best keys first).
MAX_CANDIDATES = 500


def scope_of(commune_id: int | None) -> str:
    """The blocking-key scope of a household: its commune (D1, D2 "same commune")."""
    return str(commune_id) if commune_id is not None else "-"


# -- D1 --------------------------------------------------------------------------------------


def _pair(a, b) -> sa.ColumnElement[bool]:
    """SQL: the case row is about the pair (a, b), in either order."""
    return sa.or_(
        sa.and_(CASES.c.first_id == a, CASES.c.second_id == b),
        sa.and_(CASES.c.first_id == b, CASES.c.second_id == a),
    )


#: Active households under any of the exact `keys`, oldest first, except pairs unlinked.
_EXACT = (
    sa.select(KEYS.c.household_id, KEYS.c.key)
    .join(HOUSEHOLDS, HOUSEHOLDS.c.id == KEYS.c.household_id)
    .where(
        KEYS.c.key.in_(sa.bindparam("keys", expanding=True)),
        KEYS.c.household_id != sa.bindparam("hid"),
        HOUSEHOLDS.c.status == HouseholdStatus.ACTIVE,
        ~sa.exists().where(
            _pair(sa.bindparam("hid"), KEYS.c.household_id),
            CASES.c.status == CaseStatus.UNLINKED,
        ),
    )
    .order_by(HOUSEHOLDS.c.created_at, HOUSEHOLDS.c.id)
    .limit(1)
)


def exact_match(
    household_id: str, properties: dict[str, str], place: Place, submission_id: int | None = None
) -> str | None:
    """D1: the id of an existing household in scope that has the same official household
    code or head's CCCD as this registration, or None. The caller then applies the
    registration to that household as an update; the automatic link is recorded here."""
    profile = _profile_from(properties)
    keys = exact_keys(profile, scope_of(place.commune_id))
    if not keys or place.commune_id is None:
        return None
    found = db.session.connection().execute(_EXACT, {"keys": keys, "hid": household_id}).first()
    if found is None:
        return None
    matched = found.key.split(":", 1)[0]  # code | cccd
    open_case(
        household_id,
        found.household_id,
        commune_id=place.commune_id,
        kind="exact",
        status=CaseStatus.AUTO_LINKED,
        result=Score(0.0, {matched: 1.0}),
        submission_id=submission_id,
        details={"linked_to": found.household_id, "matched": matched},
    )
    audit.record(None, "duplicate.auto_link", audit.Ref("households", found.household_id),
                 registration=household_id, matched=matched)  # fmt: skip
    return found.household_id


def linked_to(household_id: str) -> str | None:
    """The household a registration of `household_id` (the id its tablet created) was linked
    to by D1, or None: updates the tablet sends for that id belong there (a redirect)."""
    return links_of([household_id]).get(household_id)


def links_of(household_ids: list[str]) -> dict[str, str]:
    """`linked_to` for many ids in one query: own id -> the household it was linked to."""
    if not household_ids:
        return {}
    stmt = sa.select(CASES.c.new_id, CASES.c.first_id, CASES.c.second_id).where(
        CASES.c.new_id.in_(household_ids), CASES.c.status == CaseStatus.AUTO_LINKED
    )
    found = {}
    for row in db.session.connection().execute(stmt):
        found.setdefault(row.new_id, row.second_id if row.first_id == row.new_id else row.first_id)
    return found


# -- D2 --------------------------------------------------------------------------------------


def registered(
    household_id: str,
    properties: dict[str, str],
    label: str | None,
    place: Place,
    submission_id: int,
) -> None:
    """D2: index a new household's blocking keys and open possible-duplicate cases."""
    registered_many([(household_id, properties, label, place, submission_id)])


#: Members of many registrations: the `member` repeat, read in SQL where the forms put it.
_MEMBERS = sa.select(
    Submission.__table__.c.id, Submission.__table__.c.answers["member"].label("member")
).where(Submission.__table__.c.id.in_(sa.bindparam("sids", expanding=True)))
_KEYED = sa.select(KEYS.c.key, KEYS.c.household_id).where(among(KEYS.c.key, "keys"))
#: The same, a row per key: PostgreSQL gathers each bucket's ids into one array (a recheck
#: batch at 1M households reads ~13,000 rows as ~1,500, a third of the CPU spent on them).
_BUCKETS = (
    sa.select(KEYS.c.key, sa.func.array_agg(KEYS.c.household_id))
    .where(among(KEYS.c.key, "keys"))
    .group_by(KEYS.c.key)
)


def _buckets(conn: sa.Connection, keys: list[str]) -> dict[str, set[str]]:
    """The households stored under each of `keys` (those under none are left out)."""
    if conn.dialect.name == "postgresql":
        return {key: set(ids) for key, ids in conn.execute(_BUCKETS, {"keys": keys})}
    sharing: dict[str, set[str]] = {}
    for key, hid in conn.execute(_KEYED, {"keys": keys}):
        sharing.setdefault(key, set()).add(hid)
    return sharing


def registered_many(
    new: list[tuple[str, dict[str, str], str | None, Place, int]],
) -> None:
    """`registered` for the households (id, properties, label, place, submission) a batch
    created, in a few statements for all of them: members read, profiles and keys stored,
    candidates found through the key table, cases opened. Each household is compared with
    those registered before it (and earlier in the batch), as one by one."""
    if not new:
        return
    conn = db.session.connection()
    members = _members_many([sid for *_, sid in new])
    profiles, keyed, probes = [], [], {}
    for household_id, properties, label, place, sid in new:
        profile = _profile_from(properties, label, members.get(sid, []))
        scope = scope_of(place.commune_id)
        profiles.append((household_id, profile, place, sid))
        keyed += [{"key": k, "household_id": household_id} for k in index_keys(profile, scope)]
        probes[household_id] = probe_keys(profile, scope)
    conn.execute(sa.insert(PROFILES), [
        {"household_id": hid, "commune_id": place.commune_id, "profile": profile.to_json(),
         "search": search_text(profile)}
        for hid, profile, place, _ in profiles
    ])  # fmt: skip
    if keyed:
        conn.execute(sa.insert(KEYS), keyed)
    wanted = sorted({k for keys in probes.values() for k in keys})
    if not wanted:
        return
    sharing = discriminating(_buckets(conn, wanted))
    position = {hid: i for i, (hid, *_) in enumerate(new)}
    found: dict[str, list[str]] = {}
    for hid, keys in probes.items():
        ids = set().union(*(sharing.get(k, ()) for k in keys)) if keys else set()
        later = {o for o in ids if position.get(o, -1) >= position[hid]}  # itself, and later
        ids -= later
        if ids:
            found[hid] = sorted(ids)[:MAX_CANDIDATES]
    _group_candidates(
        [(hid, profile, place.commune_id, sid) for hid, profile, place, sid in profiles], found
    )


def _group_candidates(
    households: list[tuple[str, Profile, int | None, int | None]],
    found: dict[str, list[str]],
    profiles: dict[str, Profile] | None = None,
) -> int:
    """Score the candidate ids `found` of each household (id, profile, commune, submission)
    and put it with those at or above the threshold in a group, in the order given, so a
    case the first opens is seen by the next (`Groups` keeps what it wrote); returns how
    many cases it opened. One query for the candidates' profiles (unless `profiles` holds
    them, read beforehand), one for their groups."""
    if not found:
        return 0
    conn = db.session.connection()
    groups = Groups.of(found)
    if profiles is None:
        wanted = sorted({o for hid, ids in found.items() for o in ids if not groups.known(hid, o)})
        rows = conn.execute(_PROFILES_OF, {"ids": wanted}) if wanted else ()
        profiles = {hid: Profile.from_json(data) for hid, data in rows}
    scored_of = {
        hid: [
            (other, result)
            for other in found.get(hid, ())
            if other in profiles
            and not groups.known(hid, other)
            and (result := candidate(profile, profiles[other])) is not None
        ]
        for hid, profile, _, _ in households
    }
    groups.load([o for scored in scored_of.values() for o, _ in scored])
    opened = 0
    for hid, _profile, commune_id, sid in households:
        scored = [(o, result) for o, result in scored_of[hid] if not groups.known(hid, o)]
        opened += groups.add(hid, scored, commune_id, sid)
    return opened


def _members_many(submission_ids: list[int]) -> dict[int, list[dict]]:
    """The member answers of these registrations (a repeat `member`), by submission. The
    shipped forms keep it at the top; a form that puts it in a group is read in full."""
    conn = db.session.connection()
    found, deeper = {}, []
    for sid, member in conn.execute(_MEMBERS, {"sids": submission_ids}):
        if isinstance(member, list):
            found[sid] = [m for m in member if isinstance(m, dict)]
        else:
            deeper.append(sid)
    for sid in deeper:
        found[sid] = _members(sid)
    return found


def recheck(since: dt.datetime) -> int:
    """Look again for candidates of the households registered since `since`; returns how many
    cases it opened (a household matching an open group joins it instead). Two registrations of one
    household committed at the same moment by two workers cannot see each other's keys; a
    periodic recheck (a job, or after an import) finds such pairs. Pairs that share a case
    are left alone, as in `registered`. In the caller's transaction; `recheck_in_batches`
    commits a batch at a time."""
    opened, after = 0, None
    while True:
        done, after = recheck_batch(since, after)
        opened += done
        if after is None:
            return opened


#: Households looked at again per transaction of `recheck_in_batches`.
RECHECK_BATCH = 200


def recheck_in_batches(since: dt.datetime) -> int:
    """`recheck`, `RECHECK_BATCH` households per transaction (the periodic job): each batch
    holds its locks for milliseconds, so ingest and pulls never wait on a whole day's work.

    On PostgreSQL the candidates of the next two batches (their keys' buckets and the
    candidates' profiles, `_recheck_candidates`) are read on two more connections while this
    batch is scored. Those reads were three quarters of a day's recheck at 1M households, and
    about half of their time is the database's: read side by side, it hides behind the
    scoring and the other read. Nothing a batch writes (cases) is among them, so reading
    them early reads what the batch would have read."""
    engine = db.engine
    if engine.dialect.name != "postgresql":
        opened, after = 0, None
        while True:
            done, after = transactional(recheck_batch)(since, after)
            opened += done
            if after is None:
                return opened
    opened, after, more = 0, None, True
    window: collections.deque = collections.deque()
    with contextlib.ExitStack() as stack:
        head = stack.enter_context(engine.connect())
        readers: queue.SimpleQueue = queue.SimpleQueue()
        for _ in range(READ_AHEAD):
            readers.put(stack.enter_context(engine.connect()))
        pool = stack.enter_context(ThreadPoolExecutor(READ_AHEAD, "recheck-reads"))

        def read(households: list) -> tuple[dict, dict]:
            conn = readers.get()
            try:
                return _recheck_candidates(conn, households)
            finally:
                conn.rollback()  # read only: no snapshot kept between batches
                readers.put(conn)

        while True:
            while more and len(window) < READ_AHEAD:
                households, after = _recheck_households(head, since, after, RECHECK_BATCH)
                head.rollback()
                more = after is not None
                if households:
                    window.append((households, pool.submit(read, households)))
            if not window:
                return opened
            households, reading = window.popleft()
            found, profiles = reading.result()
            opened += transactional(_group_candidates)(households, found, profiles)


#: Batches whose candidates `recheck_in_batches` reads ahead, each on its own connection.
READ_AHEAD = 2


def recheck_batch(
    since: dt.datetime, after: tuple[str, str] | None, limit: int | None = None
) -> tuple[int, tuple[str, str] | None]:
    """One batch of `recheck`: the households registered since `since` after the keyset
    `after` (creation time as ISO text, id), in creation order (the index on `created_at`);
    returns the cases opened and the keyset of the next batch (None after the last)."""
    conn = db.session.connection()
    households, after = _recheck_households(conn, since, after, limit or RECHECK_BATCH)
    found, profiles = _recheck_candidates(conn, households)
    return _group_candidates(households, found, profiles), after


def _recheck_households(
    conn: sa.Connection, since: dt.datetime, after: tuple[str, str] | None, limit: int
) -> tuple[list[tuple[str, Profile, int | None, None]], tuple[str, str] | None]:
    """A batch of `recheck_batch`: its households (id, profile, commune, None) and the keyset
    of the next batch (None after the last)."""
    query = (
        sa.select(
            HOUSEHOLDS.c.id, HOUSEHOLDS.c.commune_id, HOUSEHOLDS.c.created_at, PROFILES.c.profile
        )
        .join(PROFILES, PROFILES.c.household_id == HOUSEHOLDS.c.id)
        .where(HOUSEHOLDS.c.created_at >= since, HOUSEHOLDS.c.status == HouseholdStatus.ACTIVE)
        .order_by(HOUSEHOLDS.c.created_at, HOUSEHOLDS.c.id)
        .limit(limit)
    )
    if after is not None:
        at, last_id = dt.datetime.fromisoformat(after[0]), after[1]
        query = query.where(
            sa.or_(
                HOUSEHOLDS.c.created_at > at,
                sa.and_(HOUSEHOLDS.c.created_at == at, HOUSEHOLDS.c.id > last_id),
            )
        )
    rows = conn.execute(query).all()
    households = [
        (row.id, Profile.from_json(row.profile), row.commune_id, None) for row in rows
    ]  # fmt: skip
    following = (rows[-1].created_at.isoformat(), rows[-1].id) if len(rows) == limit else None
    return households, following


def _recheck_candidates(
    conn: sa.Connection, households: list[tuple[str, Profile, int | None, None]]
) -> tuple[dict[str, list[str]], dict[str, Profile]]:
    """The candidate ids of each household of a recheck batch, through the key table as
    `candidate_ids` finds them, and every candidate's profile."""
    probes = {hid: probe_keys(profile, scope_of(c)) for hid, profile, c, _ in households}
    wanted = sorted({k for keys in probes.values() for k in keys})
    sharing = _buckets(conn, wanted) if wanted else {}
    found = {}
    for hid, keys in probes.items():
        # Each household's buckets without itself, as `candidate_ids` looks them up.
        own = discriminating({k: sharing[k] - {hid} for k in keys if k in sharing})
        ids = set().union(*own.values())
        if ids:
            found[hid] = sorted(ids)[:MAX_CANDIDATES]
    ids = sorted({o for candidates in found.values() for o in candidates})
    rows = conn.execute(_PROFILES_OF, {"ids": ids}) if ids else ()
    return found, {hid: Profile.from_json(data) for hid, data in rows}


def updated(household_id: str, properties: dict[str, str], label: str | None) -> None:
    """Re-index a household's blocking keys after a new version (when what duplicate
    detection reads of it changed). `properties` are those the version set or all."""
    updated_many([(household_id, properties, label)])


_STORED = (
    sa.select(HOUSEHOLDS.c.id, HOUSEHOLDS.c.properties, HOUSEHOLDS.c.label, HOUSEHOLDS.c.commune_id)
    .add_columns(PROFILES.c.profile)
    .outerjoin(PROFILES, PROFILES.c.household_id == HOUSEHOLDS.c.id)
    .where(HOUSEHOLDS.c.id.in_(sa.bindparam("hids", expanding=True)))
)


def updated_many(versions: list[tuple[str, dict[str, str], str | None]]) -> None:
    """`updated` for new versions (household, properties, label) of different households,
    with one query for all of them and grouped writes."""
    watched = {hid: (props, label) for hid, props, label in versions if WATCHED & props.keys()}
    if not watched:
        return
    conn = db.session.connection()
    rows = conn.execute(_STORED, {"hids": sorted(watched)}).all()
    profiles, fresh = [], []
    for row in rows:
        properties, label = watched[row.id]
        stored = Profile.from_json(row.profile) if row.profile else None
        current = {**(row.properties or {}), **properties}
        profile = _profile_from(current, label or row.label)
        if stored is None:
            fresh.append((row.id, profile, row.commune_id))
            continue
        profile = dataclasses.replace(profile, members=stored.members)
        if _near(stored.point, profile.point):  # GPS taken at each visit wanders a little
            profile = dataclasses.replace(profile, point=stored.point)
        scope = scope_of(row.commune_id)
        if stored == profile:
            continue
        if index_keys(stored, scope) == index_keys(profile, scope):
            profiles.append(
                {
                    "hid": row.id,
                    "new_profile": profile.to_json(),
                    "new_commune": row.commune_id,
                    "new_search": search_text(profile),
                }
            )
        else:
            fresh.append((row.id, profile, row.commune_id))
    update_rows(_SET_PROFILE, profiles)
    index_many(fresh)


_SET_PROFILE = RowsUpdate(
    PROFILES,
    (("household_id", "hid"),),
    (("profile", "new_profile"), ("commune_id", "new_commune"), ("search", "new_search")),
)


def _near(a: tuple[float, float] | None, b: tuple[float, float] | None) -> bool:
    """Two GPS readings of one house (within 30 m), or both missing."""
    if a is None or b is None:
        return a is b
    return distance_m(a, b) <= 30


def index(
    household_id: str, profile: Profile, commune_id: int | None, *, fresh: bool = False
) -> None:
    """Store a household's profile and keys, replacing what was stored for it (`fresh`: a
    new household, nothing stored yet)."""
    index_many([(household_id, profile, commune_id)], fresh=fresh)


def index_many(profiles: list[tuple[str, Profile, int | None]], *, fresh: bool = False) -> None:
    """`index` for several (household, profile, commune) in a few statements."""
    if not profiles:
        return
    conn = db.session.connection()
    if not fresh:
        ids = sorted({household_id for household_id, _, _ in profiles})
        conn.execute(sa.delete(KEYS).where(KEYS.c.household_id.in_(ids)))
        conn.execute(sa.delete(PROFILES).where(PROFILES.c.household_id.in_(ids)))
    insert_rows(PROFILES, [
        {"household_id": household_id, "commune_id": commune_id, "profile": profile.to_json(),
         "search": search_text(profile)}
        for household_id, profile, commune_id in profiles
    ])  # fmt: skip
    keys = [
        {"key": key, "household_id": household_id}
        for household_id, profile, commune_id in profiles
        for key in index_keys(profile, scope_of(commune_id))
    ]
    insert_rows(KEYS, keys)


def index_missing(batch: int = 500) -> int:
    """Index every household that has no profile yet (a database from before duplicate
    detection, say), from its properties and its registration's members; returns how many.
    Idempotent; run it once after upgrading."""
    done = 0
    while True:
        rows = (
            db.session.connection()
            .execute(
                sa.select(
                    HOUSEHOLDS.c.id,
                    HOUSEHOLDS.c.properties,
                    HOUSEHOLDS.c.label,
                    HOUSEHOLDS.c.commune_id,
                    HOUSEHOLDS.c.created_submission_id,
                )
                .where(~sa.exists().where(PROFILES.c.household_id == HOUSEHOLDS.c.id))
                .order_by(HOUSEHOLDS.c.id)
                .limit(batch)
            )
            .all()
        )
        for row in rows:
            members = _members(row.created_submission_id)
            profile = _profile_from(row.properties or {}, row.label, members)
            index(row.id, profile, row.commune_id, fresh=True)
        done += len(rows)
        if len(rows) < batch:
            return done


def reindex_batch(after: str = "", batch: int = 500) -> tuple[int, str | None]:
    """Index again the active households with ids after `after` (one batch, id order), from
    their properties and their registration's members: after an upgrade that changed the
    keys or what a profile holds (issue 17: every member's keys, sex and relation). Returns
    how many, and the id to continue after (None at the end). Cases are left as they are."""
    rows = (
        db.session.connection()
        .execute(
            sa.select(
                HOUSEHOLDS.c.id,
                HOUSEHOLDS.c.properties,
                HOUSEHOLDS.c.label,
                HOUSEHOLDS.c.commune_id,
                HOUSEHOLDS.c.created_submission_id,
            )
            .where(HOUSEHOLDS.c.id > after, HOUSEHOLDS.c.status == HouseholdStatus.ACTIVE)
            .order_by(HOUSEHOLDS.c.id)
            .limit(batch)
        )
        .all()
    )
    members = _members_many([r.created_submission_id for r in rows if r.created_submission_id])
    index_many([
        (row.id,
         _profile_from(row.properties or {}, row.label, members.get(row.created_submission_id, [])),
         row.commune_id)
        for row in rows
    ])  # fmt: skip
    return len(rows), (rows[-1].id if len(rows) == batch else None)


def unindex(household_id: str) -> None:
    """Forget a household's keys (it was absorbed by a merge: never a candidate again)."""
    db.session.connection().execute(sa.delete(KEYS).where(KEYS.c.household_id == household_id))


def reindex(household_id: str) -> None:
    """Index a household again from its stored profile (after a merge is undone)."""
    row = (
        db.session.connection()
        .execute(
            sa.select(PROFILES.c.profile, PROFILES.c.commune_id).where(
                PROFILES.c.household_id == household_id
            )
        )
        .first()
    )
    if row is not None:
        index(household_id, Profile.from_json(row.profile), row.commune_id)


_SHARING = sa.select(KEYS.c.key, KEYS.c.household_id).where(
    KEYS.c.key.in_(sa.bindparam("keys", expanding=True)),
    KEYS.c.household_id != sa.bindparam("hid"),
)
#: The households that share a case (a group) with `hid`: never suggested with it again.
_GROUPED_WITH = (
    sa.select(MEMBERS.c.household_id)
    .where(
        MEMBERS.c.case_id.in_(
            sa.select(MEMBERS.c.case_id).where(MEMBERS.c.household_id == sa.bindparam("hid"))
        )
    )
    .distinct()
)
_PROFILES_OF = sa.select(PROFILES.c.household_id, PROFILES.c.profile).where(
    among(PROFILES.c.household_id, "ids")
)


def candidate_ids(household_id: str, profile: Profile, commune_id: int | None) -> list[str]:
    """Households sharing a blocking key with `profile` (through the key table only)."""
    keys = probe_keys(profile, scope_of(commune_id))
    sharing: dict[str, set[str]] = {}
    for key, hid in db.session.connection().execute(_SHARING, {"keys": keys, "hid": household_id}):
        sharing.setdefault(key, set()).add(hid)
    found = set().union(*discriminating(sharing).values()) if sharing else set()
    return sorted(found)[:MAX_CANDIDATES]


def candidates(
    household_id: str, profile: Profile, commune_id: int | None
) -> list[tuple[str, Score]]:
    """Scored candidates of a household, best first, without pairs that already have a case
    (open, decided, or marked distinct: never suggested again)."""
    ids = candidate_ids(household_id, profile, commune_id)
    if not ids:
        return []
    conn = db.session.connection()
    known = set(conn.execute(_GROUPED_WITH, {"hid": household_id}).scalars())
    rows = conn.execute(_PROFILES_OF, {"ids": [i for i in ids if i not in known]})
    scored = [(hid, score(profile, Profile.from_json(data))) for hid, data in rows]
    return sorted(scored, key=lambda pair: (-pair[1].total, pair[0]))


def open_case(
    new_id: str,
    other_id: str,
    *,
    commune_id: int | None,
    kind: str,
    status: CaseStatus,
    result: Score,
    submission_id: int | None = None,
    details: dict | None = None,
) -> None:
    """Record a case for the pair, unless the pair has one (one case per pair)."""
    row = _case_row(new_id, other_id, commune_id, kind, status, result, submission_id, details)
    conn = db.session.connection()
    conn.execute(
        _insert_ignoring_conflict(conn.dialect.name, CASES, ["first_id", "second_id"]), row
    )
    case_id = conn.execute(
        sa.select(CASES.c.id).where(
            CASES.c.first_id == row["first_id"], CASES.c.second_id == row["second_id"]
        )
    ).scalar_one()
    _add_members(conn, [
        _member_row(case_id, hid, result) for hid in (row["first_id"], row["second_id"])
    ])  # fmt: skip


def _member_row(case_id: int, household_id: str, result: Score | None) -> dict:
    return {
        "case_id": case_id,
        "household_id": household_id,
        "score": result.total if result is not None else None,
        "breakdown": result.breakdown if result is not None else None,
        "separated": False,
        "added_at": utcnow(),
    }


def _add_members(conn, rows: list[dict]) -> None:
    if rows:
        statement = _insert_ignoring_conflict(
            conn.dialect.name, MEMBERS, ["case_id", "household_id"]
        )
        conn.execute(statement, rows)


_GROUPS_OF = (
    sa.select(MEMBERS.c.case_id, MEMBERS.c.household_id, MEMBERS.c.separated, CASES.c.status)
    .join(CASES, CASES.c.id == MEMBERS.c.case_id)
    .where(
        MEMBERS.c.case_id.in_(
            sa.select(MEMBERS.c.case_id).where(among(MEMBERS.c.household_id, "hids"))
        )
    )
)


class Groups:
    """The duplicate cases (groups) around some households, and how a new household's
    candidates join them (issue 17): a household whose candidates include a member of an
    open group joins that group (the oldest, when several), with its candidates that are
    not in it yet; otherwise it opens a case with them. So n registrations of one household
    open one case, not a case per pair. Two households that share a group, whatever its
    state (open, merged, distinct, or one separated from it), are never suggested again."""

    def __init__(self) -> None:
        self.members: dict[int, set[str]] = {}
        self.open: set[int] = set()
        self.of_household: dict[str, set[int]] = {}
        self.separated: set[tuple[int, str]] = set()
        self.loaded: set[str] = set()  # households whose cases were read

    @classmethod
    def of(cls, household_ids) -> Groups:
        groups = cls()
        groups.load(household_ids)
        return groups

    def load(self, household_ids) -> None:
        """Read the cases around `household_ids` not read yet (every member of each)."""
        ids = sorted(set(household_ids) - self.loaded)
        self.loaded.update(ids)
        if not ids:
            return
        seen = set(self.members)
        for row in db.session.connection().execute(_GROUPS_OF, {"hids": ids}):
            if row.case_id in seen:
                continue  # read before, and perhaps added to since
            self._note(row.case_id, row.household_id, row.status == CaseStatus.OPEN)
            if row.separated:
                self.separated.add((row.case_id, row.household_id))

    def _note(self, case_id: int, household_id: str, is_open: bool) -> None:
        self.members.setdefault(case_id, set()).add(household_id)
        self.of_household.setdefault(household_id, set()).add(case_id)
        if is_open:
            self.open.add(case_id)

    def known(self, a: str, b: str) -> bool:
        return bool(self.of_household.get(a, set()) & self.of_household.get(b, set()))

    def add(
        self,
        household_id: str,
        scored: list[tuple[str, Score]],
        commune_id: int | None,
        submission_id: int | None,
    ) -> bool:
        """Put `household_id` and its `scored` candidates (at or above the threshold) in one
        group; True when that opened a case (False: it joined an open one, or no candidate)."""
        if not scored:
            return False
        scored = sorted(scored, key=lambda pair: (-pair[1].total, pair[0]))
        joinable = sorted(
            case_id
            for other, _ in scored
            for case_id in self.of_household.get(other, ())
            if case_id in self.open and (case_id, other) not in self.separated
        )
        conn = db.session.connection()
        best_other, best = scored[0]
        if joinable:
            case_id = joinable[0]
            rows = [_member_row(case_id, household_id, best)]
        else:
            row = _case_row(household_id, best_other, commune_id, "fuzzy", CaseStatus.OPEN, best,
                            submission_id, None)  # fmt: skip
            case_id = conn.execute(sa.insert(CASES).returning(CASES.c.id), row).scalar_one()
            self.open.add(case_id)
            rows = [_member_row(case_id, household_id, None)]
        for other, result in scored:
            if other not in self.members.get(case_id, ()):
                rows.append(_member_row(case_id, other, result))
        _add_members(conn, rows)
        for added in rows:
            self._note(case_id, added["household_id"], True)
        return not joinable


def _case_row(new_id, other_id, commune_id, kind, status, result, submission_id, details) -> dict:
    first, second = sorted((new_id, other_id))
    return {
        "first_id": first,
        "second_id": second,
        "new_id": new_id,
        "commune_id": commune_id,
        "kind": kind,
        "status": status,
        "score": result.total,
        "breakdown": result.breakdown,
        "submission_id": submission_id,
        "details": details or {},
        "created_at": utcnow(),
    }


_INSERTS: dict[tuple[str, str], sa.Insert] = {}


def _insert_ignoring_conflict(dialect: str, table: sa.Table, columns: list[str]) -> sa.Insert:
    """INSERT ... ON CONFLICT DO NOTHING, built once per dialect and table."""
    key = (dialect, table.name)
    if key not in _INSERTS:
        if dialect == "postgresql":
            from sqlalchemy.dialects.postgresql import insert
        else:
            from sqlalchemy.dialects.sqlite import insert
        _INSERTS[key] = insert(table).on_conflict_do_nothing(index_elements=columns)
    return _INSERTS[key]


def _members(submission_id: int | None) -> list[dict]:
    """The member answers of a registration (a repeat `member`, in any group)."""
    if submission_id is None:
        return []
    answers = (
        db.session.connection()
        .execute(
            sa.select(Submission.__table__.c.answers).where(
                Submission.__table__.c.id == submission_id
            )
        )
        .scalar()
    )
    return list(_find_repeat(answers or {}, "member"))


def _find_repeat(node, name: str):
    if isinstance(node, dict):
        for key, value in node.items():
            if key == name and isinstance(value, list):
                yield from (v for v in value if isinstance(v, dict))
            elif isinstance(value, dict):
                yield from _find_repeat(value, name)


def profile_of(household_id: str) -> Profile | None:
    """The stored profile of a household, or None."""
    data = (
        db.session.connection()
        .execute(sa.select(PROFILES.c.profile).where(PROFILES.c.household_id == household_id))
        .scalar()
    )
    return Profile.from_json(data) if data else None


# -- D4 --------------------------------------------------------------------------------------

_FACTS = (  # what D4 reads of a submission whose fingerprint is known
    sa.select(
        Submission.__table__.c.id,
        Submission.__table__.c.root_id,
        Submission.__table__.c.submitter_id,
        Submission.__table__.c.device_time,
        Submission.__table__.c.received_at,
        Submission.__table__.c.commune_id,
        FormVersion.__table__.c.form_pk,
    )
    .join(
        FormVersion.__table__, FormVersion.__table__.c.id == Submission.__table__.c.form_version_id
    )
    .where(Submission.__table__.c.id.in_(sa.bindparam("sids", expanding=True)))
)
_SUBMISSIONS = _FACTS.add_columns(Submission.__table__.c.answers)


_SAME_ANSWERS = sa.select(FINGERPRINTS).where(
    FINGERPRINTS.c.household_id.in_(sa.bindparam("hids", expanding=True)),
    FINGERPRINTS.c.fingerprint.in_(sa.bindparam("fps", expanding=True)),
)


def double_entry(submission_id: int, household_id: str) -> bool:
    """D4: flag `submission_id` when the same user sent the same form with the same answers
    for this household within a day; True when flagged.

    When the other submission is the later one (an earlier visit arriving late), the other
    one is flagged instead: the later of the two is always the one left out of reports.
    """
    return submission_id in double_entries([(submission_id, household_id)])


def double_entries(
    applied: list[tuple[int, str]], fingerprints: dict[int, str] | None = None
) -> set[int]:
    """D4 for many applied (submission id, household id) pairs with a few statements (the
    batch path): their fingerprints are stored, and each one that repeats another of the
    same user, form and household within a day flags the later of the two. Returns the
    ids among `applied` that were flagged. `fingerprints`: those already known (the push
    reads them off the answers before its transaction), by submission id."""
    if not applied:
        return set()
    conn = db.session.connection()
    household_of = dict(applied)
    known_fp = fingerprints or {}
    query = _FACTS if known_fp.keys() >= household_of.keys() else _SUBMISSIONS
    rows = conn.execute(query, {"sids": list(household_of)}).all()
    new = [_fingerprint_row(row, household_of[row.id], known_fp.get(row.id)) for row in rows]
    return _flag_doubles(new, {row.id: row.commune_id for row in rows}) & set(household_of)


@dataclasses.dataclass(frozen=True)
class Facts:
    """What D4 reads of a submission, when the caller has it in hand (a new submission)."""

    submission_id: int
    household_id: str
    root_id: str
    form_pk: int
    submitter_id: int | None
    at: dt.datetime  # the device's time, else the server's
    commune_id: int | None
    answers: dict


def double_entry_of(facts: Facts) -> bool:
    """D4 for one new submission whose facts the caller holds (`double_entries` reads them
    back): True when it was flagged."""
    row = {
        "submission_id": facts.submission_id,
        "household_id": facts.household_id,
        "root_id": facts.root_id,
        "fingerprint": answers_fingerprint(facts.answers or {}),
        "form_pk": facts.form_pk,
        "submitter_id": facts.submitter_id,
        "at": facts.at,
    }
    return facts.submission_id in _flag_doubles([row], {facts.submission_id: facts.commune_id})


def _flag_doubles(new: list[dict], communes: dict[int, int | None]) -> set[int]:
    """Store the fingerprint rows `new`, flag the later of each pair of twins; the ids
    flagged."""
    if not new:
        return set()
    conn = db.session.connection()
    params = {
        "hids": list({r["household_id"] for r in new}),
        "fps": list({r["fingerprint"] for r in new}),
    }
    if len(new) == 1 and conn.dialect.name == "postgresql":
        # One statement for the insert and the look-up (a round trip less per submission):
        # the look-up does not see the row inserted beside it, nor needs to.
        params |= {f"new_{k}": v for k, v in new[0].items()}
        known = conn.execute(_store_and_find_pg(), params).all()
    else:
        insert_rows(FINGERPRINTS, new, key=("submission_id",))  # PostgreSQL: one document
        known = conn.execute(_SAME_ANSWERS, params).all()
    same: dict[tuple[str, str], list] = {}
    for other in known:
        same.setdefault((other.household_id, other.fingerprint), []).append(other)
    flags: dict[int, dict] = {}
    for mine in new:
        twin = _earliest_twin(mine, same.get((mine["household_id"], mine["fingerprint"]), ()))
        if twin is None:
            continue
        ours, theirs = (mine["at"], mine["submission_id"]), (twin.at, twin.submission_id)
        later, original = (ours[1], theirs[1]) if ours > theirs else (theirs[1], ours[1])
        flags.setdefault(later, {
            "submission_id": later, "original_id": original,
            "household_id": mine["household_id"], "commune_id": communes[mine["submission_id"]],
            "status": DoubleEntryStatus.OPEN, "created_at": utcnow(),
        })  # fmt: skip
    if flags:
        statement = _insert_ignoring_conflict(conn.dialect.name, DOUBLES, ["submission_id"])
        conn.execute(statement, list(flags.values()))
    return set(flags)


_PG_STORE_AND_FIND: list[sa.Select] = []


def _store_and_find_pg() -> sa.Select:
    """WITH new AS (INSERT one fingerprint ON CONFLICT DO NOTHING) SELECT `_SAME_ANSWERS`."""
    if not _PG_STORE_AND_FIND:
        from sqlalchemy.dialects.postgresql import insert

        insert_one = (
            insert(FINGERPRINTS)
            .values({c.name: sa.bindparam(f"new_{c.name}", type_=c.type) for c in FINGERPRINTS.c})
            .on_conflict_do_nothing(index_elements=["submission_id"])
        )
        _PG_STORE_AND_FIND.append(_SAME_ANSWERS.add_cte(insert_one.cte("new_fingerprint")))
    return _PG_STORE_AND_FIND[0]


def _fingerprint_row(row, household_id: str, fingerprint: str | None) -> dict:
    return {
        "submission_id": row.id,
        "household_id": household_id,
        "root_id": row.root_id,
        "fingerprint": fingerprint or answers_fingerprint(row.answers or {}),
        "form_pk": row.form_pk,
        "submitter_id": row.submitter_id,
        "at": row.device_time or row.received_at,
    }


def _earliest_twin(mine: dict, known: list):
    """The earliest other submission with the same answers, form, user and household within
    the window (an edit shares its predecessor's root and is never a twin)."""
    twins = [
        other
        for other in known
        if other.submission_id != mine["submission_id"]
        and other.household_id == mine["household_id"]
        and other.fingerprint == mine["fingerprint"]
        and other.form_pk == mine["form_pk"]
        and other.submitter_id == mine["submitter_id"]
        and other.root_id != mine["root_id"]
        and abs(other.at - mine["at"]) <= DOUBLE_ENTRY_WINDOW
    ]
    return min(twins, key=lambda t: (t.at, t.submission_id), default=None)


def left_out_of_reports() -> sa.Select:
    """Ids of submissions reports leave out: flagged double entries not dismissed (D4)."""
    return sa.select(DOUBLES.c.submission_id).where(DOUBLES.c.status != DoubleEntryStatus.DISMISSED)
