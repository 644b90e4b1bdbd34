"""The S3-compatible store (`GIUPHO_STORAGE=s3://bucket/prefix`), through boto3.

boto3 is the maintained client of the S3 API, which AWS, MinIO, Ceph and most clouds'
object stores speak; `GIUPHO_S3_ENDPOINT_URL` names a store other than AWS and the
credentials come from boto3's usual sources (`AWS_ACCESS_KEY_ID` and
`AWS_SECRET_ACCESS_KEY`, a profile, an instance role). Objects are named
`<prefix>/<key>`.

Unlike the database store, a file written here is not part of the request's transaction:
it is written before the rows that point at it are committed (the same order the
attachment folder had), so a row never points at a missing object; an object left by a
transaction that rolled back is harmless (content-addressed, or replaced by the next write
at the same key). A big file goes up through a spooled temporary file (memory up to 8 MiB,
then disk) and boto3's multipart upload, and comes down in parts.
"""

from __future__ import annotations

import os
import tempfile
import threading
from collections.abc import Iterable, Iterator, Mapping
from typing import Any

from server.storage.base import PART_BYTES, MissingFile, check_key

_SPOOL_BYTES = 8 * 1024 * 1024


def _missing(error: Exception) -> bool:
    code = str(getattr(error, "response", {}).get("Error", {}).get("Code", ""))
    return code in ("404", "NoSuchKey", "NotFound")


class S3Store:
    kind = "s3"

    def __init__(self, bucket: str, prefix: str, options: Mapping[str, Any]) -> None:
        self.bucket, self.prefix, self.options = bucket, prefix, dict(options)
        self._clients: dict[int, Any] = {}
        self._lock = threading.Lock()

    @classmethod
    def from_url(cls, url: str, config: Mapping[str, Any]) -> S3Store:
        rest = url[len("s3://") :]
        bucket, _, prefix = rest.partition("/")
        if not bucket:
            raise ValueError(f"GIUPHO_STORAGE names no bucket: {url!r}")
        options = {
            "endpoint_url": config.get("S3_ENDPOINT_URL") or None,
            "region_name": config.get("S3_REGION") or None,
        }
        return cls(bucket, prefix.strip("/"), options)

    @property
    def client(self):
        """One client per process (created after a fork: connections are not shared)."""
        pid = os.getpid()
        client = self._clients.get(pid)
        if client is None:
            import boto3
            from botocore.config import Config

            with self._lock:
                client = self._clients.get(pid)
                if client is None:
                    config = Config(connect_timeout=5, read_timeout=60, retries={"max_attempts": 3})
                    client = boto3.client("s3", config=config, **self.options)
                    self._clients = {pid: client}
        return client

    def _name(self, key: str) -> str:
        check_key(key)
        return f"{self.prefix}/{key}" if self.prefix else key

    def put(self, key: str, data: bytes) -> None:
        self.client.put_object(Bucket=self.bucket, Key=self._name(key), Body=data)

    def add(self, key: str, data: bytes) -> None:
        if not self.exists(key):
            self.put(key, data)

    def put_stream(self, key: str, chunks: Iterable[bytes]) -> int:
        name = self._name(key)
        size = 0
        with tempfile.SpooledTemporaryFile(max_size=_SPOOL_BYTES) as spool:
            for chunk in chunks:
                spool.write(chunk)
                size += len(chunk)
            spool.seek(0)
            self.client.upload_fileobj(spool, self.bucket, name)
        return size

    def _object(self, key: str):
        from botocore.exceptions import ClientError

        try:
            return self.client.get_object(Bucket=self.bucket, Key=self._name(key))
        except ClientError as error:
            if _missing(error):
                raise MissingFile(key) from None
            raise

    def get(self, key: str) -> bytes:
        return self._object(key)["Body"].read()

    def open_stream(self, key: str) -> Iterator[bytes]:
        body = self._object(key)["Body"]
        return self._parts(body)

    @staticmethod
    def _parts(body) -> Iterator[bytes]:
        try:
            yield from body.iter_chunks(PART_BYTES)
        finally:
            body.close()

    def exists(self, key: str) -> bool:
        from botocore.exceptions import ClientError

        try:
            self.client.head_object(Bucket=self.bucket, Key=self._name(key))
        except ClientError as error:
            if _missing(error):
                return False
            raise
        return True

    def size(self, key: str) -> int:
        from botocore.exceptions import ClientError

        try:
            found = self.client.head_object(Bucket=self.bucket, Key=self._name(key))
        except ClientError as error:
            if _missing(error):
                raise MissingFile(key) from None
            raise
        return int(found["ContentLength"])

    def delete(self, key: str) -> None:
        self.client.delete_object(Bucket=self.bucket, Key=self._name(key))

    def iter_keys(self, prefix: str = "") -> Iterator[str]:
        start = f"{self.prefix}/" if self.prefix else ""
        pages = self.client.get_paginator("list_objects_v2").paginate(
            Bucket=self.bucket, Prefix=start + prefix
        )
        for page in pages:
            for item in page.get("Contents", []):
                yield item["Key"][len(start) :]
