"""Sync between tablets and the server: the JSON protocol, the household merge, the client.

`protocol` (the messages and their schemas) and `merge` (the household merge, H3-H5,
and the client's rebase, C4) are pure: the server and the tablet engine in `client`
share them, so neither imports Flask nor SQLAlchemy.
"""
