"""The giupho sync client: the engine a tablet app embeds, and `giupho-sync` on the command line.

    store = LocalStore(store_path(folder, server, username))
    client = SyncClient(server, token=token)          # any requests.Session may be injected
    Synchronizer(store, client).sync()                 # clock, push, uploads, pull, rebase

Pure like the rest of `sync/`: no Flask, no SQLAlchemy (stdlib sqlite3 and requests).
"""

from sync.client.api import RetryPolicy, SyncClient, Timeouts
from sync.client.engine import Limits, Synchronizer, SyncReport
from sync.client.errors import (
    AuthError,
    OfflineError,
    ProtocolError,
    RequestError,
    ServerError,
    SyncError,
)
from sync.client.store import Attachment, LocalStore, store_path

__all__ = [
    "Attachment",
    "AuthError",
    "Limits",
    "LocalStore",
    "OfflineError",
    "ProtocolError",
    "RequestError",
    "RetryPolicy",
    "ServerError",
    "SyncClient",
    "SyncError",
    "SyncReport",
    "Synchronizer",
    "Timeouts",
    "store_path",
]
