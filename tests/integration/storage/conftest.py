"""The stores the storage tests run on: the database (default) and an S3-compatible store,
moto's server mode over real HTTP standing in for the outside service (MinIO, AWS)."""

from __future__ import annotations

import uuid

import pytest

from server.db import db
from tests.integration.database import build_app, dispose_app
from tests.integration.live import World, populate_world, publish_shipped_xforms


@pytest.fixture(scope="session")
def s3_endpoint(tmp_path_factory) -> str:
    """moto's S3 server on a free port of this machine, for the whole session."""
    moto_server = pytest.importorskip("moto.server")
    server = moto_server.ThreadedMotoServer(ip_address="127.0.0.1", port=0, verbose=False)
    server.start()
    host, port = server.get_host_and_port()
    yield f"http://{host}:{port}"
    server.stop()


@pytest.fixture(params=["database", "s3"])
def store_config(request, monkeypatch) -> dict:
    """The settings of one store kind (for S3: a fresh bucket, and test credentials)."""
    if request.param == "database":
        return {"STORAGE": "database"}
    endpoint = request.getfixturevalue("s3_endpoint")
    import boto3

    monkeypatch.setenv("AWS_ACCESS_KEY_ID", "giupho-test")
    monkeypatch.setenv("AWS_SECRET_ACCESS_KEY", "giupho-test")
    bucket = f"giupho-{uuid.uuid4().hex[:12]}"
    boto3.client("s3", endpoint_url=endpoint, region_name="us-east-1").create_bucket(Bucket=bucket)
    return {"STORAGE": f"s3://{bucket}/site-1", "S3_ENDPOINT_URL": endpoint,
            "S3_REGION": "us-east-1"}  # fmt: skip


def _machine(database, tmp_path, name: str, store_config: dict):
    return build_app(database, str(tmp_path / name),
                     ATTACHMENT_DIR=str(tmp_path / f"{name}-files"), **store_config)  # fmt: skip


@pytest.fixture
def first(app, database, tmp_path, store_config):
    """The first machine (`app` emptied the tables), with the store under test."""
    machine = _machine(database, tmp_path, "machine-1", store_config)
    yield machine
    dispose_app(machine)


@pytest.fixture
def second(first, database, tmp_path, store_config):
    """The second machine: the same database and store, its own instance and attachment folder."""
    machine = _machine(database, tmp_path, "machine-2", store_config)
    yield machine
    dispose_app(machine)


@pytest.fixture
def world(first) -> World:
    with first.app_context():
        made = populate_world(publish_shipped_xforms)
        db.session.remove()
    return made
