"""The sync itself: clock (C5), push (C2), attachments (C3), pull and digest (P1-P4), rebase (C4).

`Synchronizer` joins a `LocalStore` and a `SyncClient`. Every step can be
interrupted at any point (network, battery, SIGKILL) and simply run again:

* push sends the outbox oldest first in batches capped by count and bytes;
  each answer is applied to the outbox in one local transaction, so an item
  the server acknowledged is never sent again, and one whose answer was lost
  is sent again and answered `duplicate` (R2);
* an attachment upload asks the server how many bytes it holds and goes on
  from there;
* each pull page is applied in one transaction with its cursor.
"""

from __future__ import annotations

import dataclasses
import datetime as dt
import json
import threading
from concurrent.futures import FIRST_COMPLETED, ThreadPoolExecutor, wait
from dataclasses import dataclass, field
from typing import Any

from sync import protocol
from sync.client.api import SyncClient
from sync.client.errors import OfflineError, RequestError, ServerError, SyncError
from sync.client.rebase import PendingEdit, merge_pending
from sync.client.store import LocalStore, OutboxItem


class Progress:
    """What a sync tells as it goes; this one tells nobody (the command line draws bars).

    `step(step, done, total)`: the whole of a step: items sent ("push"), bytes of
    photos uploaded ("upload"), changes received ("pull"). `transfer(step, key, name,
    done, total)`: the bytes of one file going up or coming down; an upload that resumes
    starts at the offset the server holds. Upload calls come from the upload threads.
    """

    def step(self, step: str, done: int, total: int) -> None:
        pass

    def transfer(self, step: str, key: str, name: str, done: int, total: int) -> None:
        pass


@dataclass
class Limits:
    batch_items: int = 50
    batch_bytes: int = 256 * 1024  # uncompressed JSON per push request
    chunk_bytes: int = 64 * 1024  # attachment chunk (2G: ~10-30 s each)
    page_size: int = 200
    upload_attempts: int = 12  # consecutive failed chunks before giving up for this sync
    upload_workers: int = 2  # files uploading at once (hides the latency of a slow link)


@dataclass
class SyncReport:
    clock_offset_ms: int | None = None
    pushed: int = 0
    results: dict[str, int] = field(default_factory=dict)
    files_uploaded: int = 0
    pages: int = 0
    changes: int = 0
    resync: bool = False
    rebased: int = 0
    errors: list[str] = field(default_factory=list)


class Synchronizer:
    def __init__(
        self,
        store: LocalStore,
        client: SyncClient,
        *,
        limits: Limits | None = None,
        progress: Progress | None = None,
    ) -> None:
        self.store = store
        self.client = client
        self.limits = limits or Limits()
        self.progress = progress or Progress()
        self._uploaded: dict[str, int] = {}  # bytes the server holds, by file (this sync)
        self._upload_total = 0
        self._lock = threading.Lock()

    # -- everything ----------------------------------------------------------------------------

    def sync(self) -> SyncReport:
        """Clock, push, uploads, pull, digest and rebase, in that order."""
        report = SyncReport()
        self.measure_clock(report)
        self.push(report)
        self.upload_files(report)
        self.pull(report)
        return report

    def measure_clock(self, report: SyncReport | None = None) -> int:
        """Measure and keep the device-minus-server clock offset (C5)."""
        offset = self.client.measure_clock()
        self.store.record_clock_offset(offset)
        if report is not None:
            report.clock_offset_ms = offset
        return offset

    # -- push (C2) -----------------------------------------------------------------------------

    def _batches(self, items: list[OutboxItem]) -> list[list[OutboxItem]]:
        batches: list[list[OutboxItem]] = []
        current: list[OutboxItem] = []
        size = 0
        for item in items:
            item_size = len(json.dumps(item.item, ensure_ascii=False).encode("utf-8"))
            full = len(current) >= self.limits.batch_items
            if current and (full or size + item_size > self.limits.batch_bytes):
                batches.append(current)
                current, size = [], 0
            current.append(item)
            size += item_size
        if current:
            batches.append(current)
        return batches

    def _wire(self, item: OutboxItem) -> dict[str, Any]:
        wire = dict(item.item)
        if wire.get("clock_offset_ms") is None and self.store.clock_offset_ms is not None:
            wire["clock_offset_ms"] = self.store.clock_offset_ms
        return wire

    def push(self, report: SyncReport | None = None) -> SyncReport:
        """Send every pending item; results applied to the outbox batch by batch."""
        report = report or SyncReport()
        pending = self.store.pending()
        total, done = len(pending), 0
        self.progress.step("push", 0, total)
        queue = self._batches(pending)
        while queue:
            batch = queue.pop(0)
            try:
                response = self.client.push([self._wire(i) for i in batch])
            except RequestError as exc:
                if exc.status == 413 and len(batch) > 1:  # too large: split it
                    half = len(batch) // 2
                    queue[:0] = [batch[:half], batch[half:]]
                    continue
                if exc.status == 413:
                    self._refuse(batch[0], exc)
                    done += 1
                    continue
                raise
            self.store.apply_results(batch, response.results)
            for result in response.results:
                report.results[result.result] = report.results.get(result.result, 0) + 1
            report.pushed += len(batch)
            done += len(batch)
            self.progress.step("push", done, total)
        return report

    def _refuse(self, item: OutboxItem, exc: RequestError) -> None:
        result = protocol.PushResult(
            item.instance_id, "refused", exc.status or 413,
            exc.problem.get("code"), exc.message,
        )  # fmt: skip
        self.store.apply_results([item], [result])

    # -- attachments (C3) ------------------------------------------------------------------------

    def upload_files(self, report: SyncReport | None = None) -> SyncReport:
        """Upload every file of the items the server holds, a few at a time.

        Workers only talk to the server; the store is written here, by the
        calling thread, as each file completes (sqlite3 connections stay in
        their thread).
        """
        report = report or SyncReport()
        files = self.store.files_to_upload()
        if not files:
            return report
        self._uploaded = {}
        self._upload_total = sum(f["size"] for f in files)
        self.progress.step("upload", 0, self._upload_total)
        workers = max(1, min(self.limits.upload_workers, len(files)))
        with ThreadPoolExecutor(workers, thread_name_prefix="giupho-upload") as pool:
            running = {}
            queue = list(files)
            first_error: BaseException | None = None
            while queue or running:
                while queue and len(running) < workers and first_error is None:
                    file = queue.pop(0)
                    data = self.store.file_data(file["instance_id"], file["filename"])
                    running[pool.submit(self._upload, file, data)] = file
                if not running:
                    break
                done, _pending = wait(running, return_when=FIRST_COMPLETED)
                for future in done:
                    file = running.pop(future)
                    error = future.exception()
                    if error is not None:
                        first_error = first_error or error
                        continue
                    self.store.file_uploaded(file["instance_id"], file["filename"])
                    report.files_uploaded += 1
            if first_error is not None:
                raise first_error
        return report

    def _open(self, file: dict[str, Any]) -> protocol.UploadState:
        # Opening again finds the same session (same submission, name and checksum) with
        # the bytes the server already holds: nothing needs remembering between syncs.
        state = self.client.upload_open(
            file["instance_id"], file["filename"], file["size"], file["sha256"],
            file["content_type"],
        )  # fmt: skip
        file["upload_id"] = state.id
        return state

    def _state(self, file: dict[str, Any]) -> protocol.UploadState:
        if file.get("upload_id"):
            try:
                return self.client.upload_state(file["upload_id"])
            except RequestError as exc:
                if exc.status != 404:
                    raise
        return self._open(file)

    def _upload(self, file: dict[str, Any], data: bytes) -> None:
        """Upload one file, resuming from the server's offset after every failure (a worker)."""
        state = self._state(file)
        failures = 0
        size = self.limits.chunk_bytes
        while True:
            self._moved(file, state)
            if state.complete:
                return
            if state.offset >= state.size:
                try:
                    state = self.client.upload_finish(state.id)
                except RequestError as exc:  # checksum mismatch: the server starts again at 0
                    state = self._after_failure(file, exc, failures := failures + 1)
                continue
            chunk = data[state.offset : state.offset + size]
            try:
                state = self.client.upload_chunk(state.id, state.offset, chunk)
                failures = 0
            except (OfflineError, ServerError):
                # Send the chunk again at the same offset: if the lost attempt did reach the
                # server, it answers with the offset it holds (below) and nothing is resent.
                failures += 1
                if failures >= self.limits.upload_attempts:
                    raise
                self.client.sleep(self.client.retry.delay(min(failures, 6), self.client.rng))
            except RequestError as exc:
                held = (exc.problem.get("details") or {}) if exc.status == 400 else {}
                if isinstance(held, dict) and isinstance(held.get("offset"), int):
                    complete = bool(held.get("complete"))
                    state = dataclasses.replace(state, offset=held["offset"], complete=complete)
                    continue
                failures += 1
                if exc.status == 413:
                    size = max(1024, size // 2)  # the server takes smaller chunks
                state = self._after_failure(file, exc, failures)

    def _moved(self, file: dict[str, Any], state: protocol.UploadState) -> None:
        """Tell the progress where one upload stands, and where all of them do together."""
        held = state.size if state.complete else state.offset
        key = f"{file['instance_id']}/{file['filename']}"
        with self._lock:
            self._uploaded[key] = held
            together = sum(self._uploaded.values())
        self.progress.transfer("upload", key, file["filename"], held, state.size)
        self.progress.step("upload", together, self._upload_total)

    def _after_failure(self, file: dict, exc: SyncError, failures: int) -> protocol.UploadState:
        if failures >= self.limits.upload_attempts:
            raise exc
        if isinstance(exc, RequestError) and exc.status not in (400, 404, 409, 413):
            raise exc
        if not isinstance(exc, RequestError):
            self.client.sleep(self.client.retry.delay(min(failures, 6), self.client.rng))
        return self._state(file)  # where the server stands (retried like every call)

    # -- pull (P1-P4) ----------------------------------------------------------------------------

    def pull(self, report: SyncReport | None = None) -> SyncReport:
        """Pull every page, check the digest (resync once if asked), then rebase."""
        report = report or SyncReport()
        for _round in range(2):
            self._pull_pages(report)
            held = self.store.held_versions()
            answer = self.client.digest(protocol.households_digest(held))
            if not answer.resync:
                break
            report.resync = True
            self.store.reset_pulled(answer.cursor)
        report.rebased = self.rebase()
        return report

    def _pull_pages(self, report: SyncReport) -> None:
        while True:
            page = self.client.pull(self.store.cursor, self.limits.page_size)
            files = self._downloads(page.changes)
            self.store.apply_page(page.changes, page.cursor, files)
            report.pages += 1
            report.changes += len(page.changes)
            more = 1 if page.has_more else 0
            self.progress.step("pull", report.changes, report.changes + more)
            if not page.has_more:
                return

    def _downloads(self, changes: list[protocol.Change]) -> dict[tuple, bytes]:
        """The XForms and media a page's form changes need that the store lacks."""
        files: dict[tuple, bytes] = {}
        for change in changes:
            if change.kind != "form" or change.op != "upsert" or not change.data:
                continue
            data = change.data
            form_id, version = data["form_id"], data["version"]
            if self.store.form_hash(form_id, version) != data["hash"]:
                name = f"{form_id}.xml"
                files[(form_id, version)] = self._download(data["download_url"], name)
            for media in data.get("media") or []:
                if self.store.media_hash(form_id, version, media["filename"]) != media["hash"]:
                    key = (form_id, version, media["filename"])
                    files[key] = self._download(media["download_url"], media["filename"])
        return files

    def _download(self, url: str, name: str) -> bytes:
        def arrived(done: int, total: int) -> None:
            self.progress.transfer("pull", url, name, done, total)

        return self.client.download(url, on_bytes=arrived)

    # -- rebase (C4) -----------------------------------------------------------------------------

    def rebase(self) -> int:
        """Recompute the local view of every household with unsent edits; returns how many."""
        by_household: dict[str, list[PendingEdit]] = {}
        for item in self.store.pending():
            if item.household_id and item.edits:
                household = self.store.resolve(item.household_id)
                by_household.setdefault(household, []).append(
                    PendingEdit(item.instance_id, item.base or {}, item.edits, _corrected(item))
                )
        count = 0
        for household_id, edits in by_household.items():
            held = self.store.household(household_id)
            if held is None:
                continue
            changed = _seconds(held.get("updated_at"))
            result = merge_pending(
                held["server_properties"], edits, float("inf") if changed is None else changed
            )
            self.store.set_local_view(household_id, result.properties, result.conflicts)
            count += 1
        return count


def _seconds(text: Any) -> float | None:
    """POSIX seconds of an ISO 8601 time, or None."""
    if not text:
        return None
    try:
        when = dt.datetime.fromisoformat(str(text))
    except ValueError:
        return None
    if when.tzinfo is None:
        when = when.replace(tzinfo=dt.UTC)
    return when.timestamp()


def _corrected(item: OutboxItem) -> float:
    """The visit's device time corrected by the device's clock offset (H4), in POSIX seconds."""
    seconds = _seconds(item.item.get("device_time"))
    if seconds is None:
        seconds = _seconds(item.created_at) or 0.0
    offset = item.item.get("clock_offset_ms") or 0
    return seconds - float(offset) / 1000
