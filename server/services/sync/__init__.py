"""Sync: the JSON sync exchange and the change log behind down-sync (P1-P4).

- `exchange`: push a batch through receiving (C2), pull pages, compare digests (P4)
- `pull`: what a tablet must learn in its user's scope, page by page (P1-P3)
- `cursor`: the signed, opaque pull cursor
- `render`: database rows as `sync.protocol.Change` entries
- `changes`: the change log writers record into and pulls read (P2)
"""
