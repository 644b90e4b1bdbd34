"""Stored files kept in the database: the default store every machine reaches (`server.storage`).

A file is one or more `blobs` rows under its key, `part` 0, 1, 2... of at most
`server.storage.database.PART_BYTES` each, so a 50 MiB photo or a large export is
written and read a part at a time and never held whole in memory. An empty file is
one empty part 0.
"""

from __future__ import annotations

import sqlalchemy as sa
from sqlalchemy.orm import Mapped, mapped_column

from server.models.base import Base


class Blob(Base):
    __tablename__ = "blobs"

    # `ab/cd/<sha256>` for attachments, `uploads/<token>/<offset>` for a resumable
    # upload's chunks, `exports/<job>-<name>` for export files.
    key: Mapped[str] = mapped_column(sa.String(500), primary_key=True)
    part: Mapped[int] = mapped_column(sa.Integer, primary_key=True, autoincrement=False)
    data: Mapped[bytes] = mapped_column(sa.LargeBinary)
