"""The OpenAPI document: every JSON route is in it, every reference resolves, and the bodies
it describes are the ones the API really sends (errors included)."""

from __future__ import annotations

import pytest

from server.api.openapi import build_document, openapi_path
from sync import protocol
from tests.integration.helpers import bearer

DOCUMENT = "/api/v1/openapi.json"
SKIPPED_METHODS = {"HEAD", "OPTIONS"}


def missing_routes(app, document: dict) -> list[str]:
    """The `/api/` routes of `app` (method and rule) that `document` does not describe."""
    missing = []
    for rule in app.url_map.iter_rules():
        if not rule.rule.startswith("/api/"):
            continue
        path = document["paths"].get(openapi_path(rule.rule), {})
        for method in sorted(rule.methods - SKIPPED_METHODS):
            operation = path.get(method.lower())
            documented = {p["name"] for p in (operation or {}).get("parameters", [])}
            if operation is None or not set(rule.arguments) <= documented:
                missing.append(f"{method} {rule.rule}")
    return missing


def refs(node) -> list[str]:
    if isinstance(node, dict):
        found = [node["$ref"]] if isinstance(node.get("$ref"), str) else []
        return found + [r for value in node.values() for r in refs(value)]
    if isinstance(node, list):
        return [r for value in node for r in refs(value)]
    return []


def resolve(document: dict, ref: str):
    assert ref.startswith("#/"), ref
    node = document
    for part in ref[2:].split("/"):
        node = node[part]
    return node


@pytest.fixture
def document(client) -> dict:
    response = client.get(DOCUMENT)  # no credentials: the document is public
    assert response.status_code == 200 and response.is_json
    return response.json


def test_every_api_route_and_method_is_documented(app, document):
    assert document["openapi"].startswith("3.")
    assert missing_routes(app, document) == []


def test_a_route_added_without_documentation_is_caught(app):
    @app.get("/api/v1/undocumented")
    def undocumented():
        return {}

    assert missing_routes(app, build_document(app)) == ["GET /api/v1/undocumented"]


def test_every_reference_resolves(document):
    found = refs(document)
    assert "#/components/schemas/PushBatch" in found
    for ref in found:
        assert resolve(document, ref) is not None


def test_errors_share_one_documented_shape_that_real_errors_have(client, document):
    problem = document["components"]["schemas"]["Problem"]
    assert set(problem["properties"]) == {"code", "message", "details"}
    assert set(problem["required"]) == {"code", "message"}
    for path, operations in document["paths"].items():
        for method, operation in operations.items():
            for status, response in operation["responses"].items():
                if int(status) >= 400:
                    assert response == {"$ref": "#/components/responses/Problem"}, (
                        method,
                        path,
                        status,
                    )

    real = client.post("/api/v1/sync/push", json={"items": []})  # no credentials: 401

    assert real.status_code == 401
    assert "401" in document["paths"]["/api/v1/sync/push"]["post"]["responses"]
    assert set(real.json) == set(problem["properties"])
    protocol.ProblemSchema().load(real.json)


def test_public_routes_are_marked_so_and_the_rest_need_credentials(document):
    public = {
        (path, method)
        for path, operations in document["paths"].items()
        for method, operation in operations.items()
        if operation["security"] == []
    }
    assert public == {
        ("/api/v1/health", "get"),
        ("/api/v1/openapi.json", "get"),
        ("/api/v1/sync/time", "get"),
    }
    schemes = document["components"]["securitySchemes"]
    assert schemes["deviceToken"]["scheme"] == "bearer"


def test_the_documented_push_result_has_the_fields_the_api_sends(
    client, app, make_user, make_device, places, document
):
    make_user("cadre", "cadre", places.village_a1)
    token = make_device("cadre")

    response = client.post("/api/v1/sync/push", json={"items": ["garbage"]}, headers=bearer(token))

    (result,) = response.json["results"]
    schemas = document["components"]["schemas"]
    assert set(result) == set(schemas["PushResult"]["properties"])
    assert set(response.json) == set(schemas["PushResponse"]["properties"])
    assert set(schemas["Change"]["properties"]) == {"kind", "id", "op", "data"}
    assert {"HouseholdData", "FormData", "RemovalData", "RedirectData"} <= set(schemas)
