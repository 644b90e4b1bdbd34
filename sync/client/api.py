"""`SyncClient`: the giupho JSON sync API over an injectable `requests.Session`.

Every call has an explicit (connect, read) timeout. Calls that are safe to
repeat (all of them: a push is idempotent on the server, R2; a chunk write
names its offset) are retried on network errors, 5xx and 429 with
exponential backoff and full jitter, honouring `Retry-After`; what is left
after the last attempt becomes one of the exceptions of `sync.client.errors`.
"""

from __future__ import annotations

import datetime as dt
import email.utils
import gzip
import json
import random
import time
from collections.abc import Callable
from dataclasses import dataclass
from typing import Any
from urllib.parse import urljoin

import requests

from sync import protocol
from sync.client.errors import (
    AuthError,
    OfflineError,
    ProtocolError,
    RequestError,
    ServerError,
)
from sync.client.i18n import N_, both

API = "/api/v1"
USER_AGENT = "giupho-sync/1"


@dataclass
class RetryPolicy:
    """Exponential backoff with full jitter: attempt n waits uniform(0, min(cap, base * 2**n))."""

    attempts: int = 8
    base: float = 0.5
    cap: float = 30.0
    #: Longest `Retry-After` honoured (a server asking for an hour is not waited for here).
    max_retry_after: float = 120.0

    def delay(self, attempt: int, rng: random.Random) -> float:
        return rng.uniform(0, min(self.cap, self.base * 2**attempt))


@dataclass(frozen=True)
class Timeouts:
    connect: float = 10.0
    read: float = 60.0

    def pair(self) -> tuple[float, float]:
        return (self.connect, self.read)


def utcnow() -> dt.datetime:
    return dt.datetime.now(dt.UTC)


class _Retry(Exception):
    """A transient failure of one attempt: wait `after` (None: backoff) and try again."""

    def __init__(self, final: Exception, after: float | None = None) -> None:
        super().__init__(str(final))
        self.final = final
        self.after = after


class SyncClient:
    """The sync API of one server for one credential (a device token, or a password at login)."""

    def __init__(
        self,
        base_url: str,
        *,
        token: str | None = None,
        session: requests.Session | None = None,
        timeouts: Timeouts | None = None,
        retry: RetryPolicy | None = None,
        sleep: Callable[[float], None] = time.sleep,
        clock: Callable[[], dt.datetime] = utcnow,
        rng: random.Random | None = None,
        lang: str = "vi",
    ) -> None:
        self.base_url = base_url.rstrip("/")
        self.token = token
        self.session = session or requests.Session()
        self.timeouts = timeouts or Timeouts()
        self.retry = retry or RetryPolicy()
        self.sleep = sleep
        self.clock = clock
        self.rng = rng or random.Random()
        self.lang = lang
        self.requests_made = 0
        self.retries = 0

    # -- transport ---------------------------------------------------------------------------

    def url(self, path: str) -> str:
        if path.startswith(("http://", "https://")):
            return path
        if not path.startswith("/"):
            path = f"{API}/{path}"
        return urljoin(self.base_url + "/", path.lstrip("/"))

    def _headers(self, extra: dict[str, str] | None, auth: Any) -> dict[str, str]:
        headers = {"User-Agent": USER_AGENT, "Accept-Language": self.lang}
        if auth is None and self.token:
            headers["Authorization"] = f"Bearer {self.token}"
        return headers | (extra or {})

    def request(
        self,
        method: str,
        path: str,
        *,
        body: bytes | None = None,
        headers: dict[str, str] | None = None,
        auth: Any = None,
        expect_json: bool = True,
        retry: bool = True,
        on_retry: Callable[[Exception], None] | None = None,
        on_bytes: Callable[[int, int], None] | None = None,
    ) -> requests.Response:
        """One API call with retries; the response of a 2xx answer (its JSON checked readable).

        `on_bytes(received, expected)` is told how much of the body has arrived as it
        arrives (`expected` 0 when the server does not say): a download's progress.
        """
        attempts = self.retry.attempts if retry else 1
        for attempt in range(attempts):
            try:
                return self._attempt(method, path, body, headers, auth, expect_json, on_bytes)
            except _Retry as transient:
                if attempt + 1 >= attempts:
                    raise transient.final from None
                self.retries += 1
                if on_retry is not None:
                    on_retry(transient.final)
                wait = transient.after
                if wait is None:
                    wait = self.retry.delay(attempt, self.rng)
                self.sleep(min(wait, self.retry.max_retry_after))
        raise AssertionError("unreachable")

    def _attempt(
        self, method, path, body, headers, auth, expect_json, on_bytes=None
    ) -> requests.Response:
        self.requests_made += 1
        try:
            response = self.session.request(
                method,
                self.url(path),
                data=body,
                headers=self._headers(headers, auth),
                auth=auth,
                timeout=self.timeouts.pair(),
                allow_redirects=False,
                stream=on_bytes is not None,
            )
            # Read it all now: a cut body fails here, not later.
            content = response.content if on_bytes is None else _read(response, on_bytes)
        except requests.RequestException as exc:
            raise _Retry(_offline(exc)) from None
        status = response.status_code
        if status == 429 or status >= 500:
            error = ServerError(
                *both(N_("The server answered %(status)s. Try again later."), status=status),
                status=status,
            )
            raise _Retry(error, _retry_after(response.headers.get("Retry-After"), self.clock))
        if status in (401, 403):
            problem = _problem(content)
            sign_in = both(N_("Sign in again: giupho-sync login SERVER"))
            raise AuthError(
                problem.get("message") or sign_in[0],
                problem.get("message") or sign_in[1],
                status=status,
            )
        if status >= 400 or status < 200 or status >= 300:
            problem = _problem(content)
            message = problem.get("message") or f"The server refused the request ({status})."
            raise RequestError(message, message, status=status, problem=problem)
        if expect_json:
            try:
                response._giupho_json = json.loads(content)  # type: ignore[attr-defined]
            except ValueError:
                # A body cut short by the network: the request may be sent again (idempotent).
                raise _Retry(
                    OfflineError(*both(N_("The answer was cut off by the network.")))
                ) from None
        return response

    def _json(self, method: str, path: str, payload: Any = None, **kwargs) -> Any:
        headers = dict(kwargs.pop("headers", None) or {})
        body = None
        if payload is not None:
            body = json.dumps(payload, ensure_ascii=False, separators=(",", ":")).encode("utf-8")
            headers["Content-Type"] = "application/json"
            if kwargs.pop("gzip", False):
                body = gzip.compress(body, compresslevel=6, mtime=0)
                headers["Content-Encoding"] = "gzip"
        response = self.request(method, path, body=body, headers=headers, **kwargs)
        return response._giupho_json  # type: ignore[attr-defined]

    @staticmethod
    def _load(schema, data: Any):
        try:
            return schema.load(data)
        except Exception as exc:  # marshmallow.ValidationError, or not a dict at all
            raise ProtocolError(
                *both(N_("Unexpected answer from the server: %(error)s"), error=exc)
            ) from None

    # -- the API -----------------------------------------------------------------------------

    def measure_clock(self) -> int:
        """Device clock minus server clock, in ms, corrected for half the round trip (C5)."""
        sent = self.clock()
        data = self._json("GET", "sync/time")
        received = self.clock()
        server = self._load(protocol.ServerTimeSchema(), data)["server_time"]
        midpoint = sent + (received - sent) / 2
        return round((midpoint - server).total_seconds() * 1000)

    def register_device(self, username: str, password: str, name: str) -> protocol.DeviceCredential:
        """Sign in with a password and get a device token for this client."""
        data = self._json(
            "POST",
            "devices",
            {"name": name},
            auth=(username.encode("utf-8"), password.encode("utf-8")),
        )
        return self._load(protocol.DeviceCredentialSchema(), data)

    def push(self, items: list[dict[str, Any]], **kwargs) -> protocol.PushResponse:
        """Send one batch of push items (gzip); the server's receipt per item, in order."""
        data = self._json("POST", "sync/push", {"items": items}, gzip=True, **kwargs)
        response = self._load(protocol.PushResponseSchema(), data)
        if len(response.results) != len(items):
            raise ProtocolError(
                *both(
                    N_("%(sent)s items sent, %(received)s results received"),
                    sent=len(items),
                    received=len(response.results),
                )
            )
        return response

    def pull(self, cursor: str | None, limit: int = 200, **kwargs) -> protocol.PullPage:
        query = f"sync/pull?limit={int(limit)}"
        if cursor:
            query += "&cursor=" + requests.utils.quote(cursor, safe="")
        return self._load(protocol.PullPageSchema(), self._json("GET", query, **kwargs))

    def digest(self, digest: str, cursor: str | None = None) -> protocol.DigestResponse:
        data = self._json("POST", "sync/digest", {"digest": digest, "cursor": cursor})
        return self._load(protocol.DigestResponseSchema(), data)

    def download(self, path: str, on_bytes: Callable[[int, int], None] | None = None) -> bytes:
        """A file the server lists (form XForm, form media); `on_bytes` follows its arrival."""
        return self.request("GET", path, expect_json=False, on_bytes=on_bytes).content

    # -- resumable uploads (C3) --------------------------------------------------------------

    def upload_open(
        self, instance_id: str, filename: str, size: int, sha256: str, content_type: str | None
    ) -> protocol.UploadState:
        body = {"instance_id": instance_id, "filename": filename, "size": size,
                "sha256": sha256, "content_type": content_type}  # fmt: skip
        return self._load(protocol.UploadStateSchema(), self._json("POST", "uploads", body))

    def upload_state(self, upload_id: str) -> protocol.UploadState:
        data = self._json("GET", f"uploads/{upload_id}")
        return self._load(protocol.UploadStateSchema(), data)

    def upload_chunk(self, upload_id: str, offset: int, chunk: bytes) -> protocol.UploadState:
        """Write `chunk` at `offset`; one attempt (the caller asks the offset on failure)."""
        headers = {"Upload-Offset": str(offset), "Content-Type": "application/offset+octet-stream"}
        response = self.request(
            "PATCH", f"uploads/{upload_id}", body=chunk, headers=headers, retry=False
        )
        return self._load(protocol.UploadStateSchema(), response._giupho_json)  # type: ignore[attr-defined]

    def upload_finish(self, upload_id: str) -> protocol.UploadState:
        data = self._json("POST", f"uploads/{upload_id}/finish")
        return self._load(protocol.UploadStateSchema(), data)


def _read(response: requests.Response, on_bytes: Callable[[int, int], None]) -> bytes:
    """The whole body of a streamed response, telling `on_bytes` as it arrives."""
    try:
        expected = int(response.headers.get("Content-Length") or 0)
    except ValueError:
        expected = 0
    parts, received = [], 0
    for part in response.iter_content(16 * 1024):
        parts.append(part)
        received += len(part)
        on_bytes(received, max(expected, received))
    response._content = content = b"".join(parts)  # what `.content` gives from now on
    return content


def _offline(exc: Exception) -> OfflineError:
    if isinstance(exc, requests.Timeout):
        return OfflineError(*both(N_("The server did not answer in time (slow or no network).")))
    return OfflineError(*both(N_("Cannot reach the server: check the network and try again.")))


def _problem(content: bytes) -> dict:
    try:
        data = json.loads(content)
    except ValueError:
        return {}
    return data if isinstance(data, dict) else {}


def _retry_after(value: str | None, clock: Callable[[], dt.datetime]) -> float | None:
    """Seconds to wait from a `Retry-After` header (seconds or an HTTP date); None if absent."""
    if not value:
        return None
    value = value.strip()
    if value.isdigit():
        return float(value)
    try:
        when = email.utils.parsedate_to_datetime(value)
    except (TypeError, ValueError):
        return None
    if when.tzinfo is None:
        when = when.replace(tzinfo=dt.UTC)
    return max(0.0, (when - clock()).total_seconds())
