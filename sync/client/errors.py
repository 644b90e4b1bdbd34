"""The sync client's exceptions: one tree, so a caller can catch by what to do about it.

SyncError                 anything the client could not do
  OfflineError            no answer from the server (no network, timeout, reset): try later
  AuthError               401/403: sign in again (`giupho-sync login`)
  ServerError             5xx or 429 after every retry: the server is unwell; try later
  ProtocolError           an answer that is not what the protocol says: a bug or a proxy
"""

from __future__ import annotations


class SyncError(Exception):
    """Base class; `message_vi` is the same message in Vietnamese."""

    def __init__(self, message: str, message_vi: str | None = None, *, status: int | None = None):
        super().__init__(message)
        self.message = message
        self.message_vi = message_vi or message
        self.status = status

    def text(self, lang: str = "vi") -> str:
        return self.message_vi if lang == "vi" else self.message


class OfflineError(SyncError):
    """The server could not be reached or did not answer in time."""


class AuthError(SyncError):
    """The server refused the credentials (or they are missing)."""


class ServerError(SyncError):
    """The server answered 5xx or 429, and kept doing so through every retry."""


class ProtocolError(SyncError):
    """The server's answer does not follow the sync protocol."""


class RequestError(SyncError):
    """The server refused this request as it is (4xx other than auth); `problem` has why."""

    def __init__(
        self,
        message: str,
        message_vi: str | None = None,
        *,
        status: int | None = None,
        problem: dict | None = None,
    ):
        super().__init__(message, message_vi, status=status)
        self.problem = problem or {}
