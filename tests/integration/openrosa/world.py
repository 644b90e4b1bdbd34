"""A small world for ingest and OpenRosa tests: the test places, the shipped forms, cadres.

The shipped forms are converted from their .xlsx once per test session and
uploaded as XForms in each test (pyxform takes about half a second a form;
reading an XForm takes milliseconds). Submissions are built with the same
builders the demo seed uses (`server.services.demo.households`).
"""

from __future__ import annotations

import functools
import random
import uuid
from dataclasses import dataclass, field

import pytest

from forms.library import (
    REGISTRATION_FORM_ID,
    REGISTRATION_XLSX,
    VISIT_FORM_ID,
    VISIT_VERSION,
    VISIT_XLSX,
)
from forms.load import load_form
from forms.model import FormModel
from forms.poverty import load_standards
from forms.poverty import media as poverty_media
from server.models import Role
from server.services.demo import households as demo_households
from server.services.demo.households import DemoHousehold, Member
from server.services.forms import publishing as forms

OPENROSA = {"X-OpenRosa-Version": "1.0"}
VERSION = VISIT_VERSION


def _with_lines(model: FormModel) -> FormModel:
    """The form as the server holds it: with the poverty lines it sends (`poverty_lines.csv`)."""
    poverty_media.attach(model, load_standards())
    return model


@functools.cache
def registration_form() -> FormModel:
    return _with_lines(load_form(REGISTRATION_XLSX))


@functools.cache
def visit_form() -> FormModel:
    return _with_lines(load_form(VISIT_XLSX))


def load_shipped_forms() -> None:
    """Upload and publish the shipped forms (inside an app context)."""
    for model, form_id in (
        (registration_form(), REGISTRATION_FORM_ID),
        (visit_form(), VISIT_FORM_ID),
    ):
        result = forms.upload(model.xform, f"{form_id}.xml", None)
        forms.publish(None, form_id, result.version.version)


def household(village: str = "03325_01", head_name: str = "Lò Văn Minh", **fields) -> DemoHousehold:
    """A household of the test places (village given as the form's code)."""
    commune = village.split("_")[0]
    values = dict(
        id=str(uuid.uuid4()),
        village=village,
        commune=commune,
        province="11",
        head_name=head_name,
        head_sex="male",
        head_birth_year=1980,
        ethnicity="thai",
        income=1_200_000,
        members=[Member("Lò Thị Mai", "female", 1983, "spouse")],
    )
    values.update(fields)
    return DemoHousehold(**values)


def registration_xml(
    home: DemoHousehold,
    instance_id: str | None = None,
    deprecated_id: str | None = None,
    **answers,
) -> bytes:
    """Submission XML registering `home` (an edit with `deprecated_id`); `answers` override
    answers by name (the same household always gets the same other answers)."""
    model = registration_form()
    tree = demo_households.registration_answers(
        model,
        home,
        instance_id=instance_id or new_id(),
        deprecated_id=deprecated_id,
        rng=random.Random(home.id),
    )
    _override(tree, answers)
    return demo_households.to_submission_xml(model, tree)


def visit_xml(household_id: str, base_version: int, income: int = 2_500_000, **kwargs) -> bytes:
    """Submission XML of a visit updating `household_id` from `base_version`."""
    model = visit_form()
    kwargs.setdefault("instance_id", new_id())
    tree = demo_households.visit_answers(model, household_id, base_version, income=income, **kwargs)
    return demo_households.to_submission_xml(model, tree)


def _override(tree: dict, answers: dict) -> None:
    for key, value in answers.items():
        stack = [tree]
        while stack:
            node = stack.pop()
            if key in node and not isinstance(node[key], dict | list):
                node[key] = value
                break
            stack.extend(v for v in node.values() if isinstance(v, dict))
        else:
            raise KeyError(key)


def new_id() -> str:
    return f"uuid:{uuid.uuid4()}"


@dataclass
class World:
    """Usernames and device tokens of the test people."""

    tokens: dict[str, str] = field(default_factory=dict)

    def key_url(self, username: str, path: str) -> str:
        return f"/key/{self.tokens[username]}{path}"


@pytest.fixture
def world(app, places, make_user, make_device) -> World:
    """Shipped forms published; cadre_a (villages a1, a2), cadre_b (b1), a commune official
    of commune a, an admin; device tokens for all but the admin."""
    with app.app_context():
        load_shipped_forms()
    make_user("cadre_a", Role.CADRE, places.village_a1, places.village_a2)
    make_user("cadre_b", Role.CADRE, places.village_b1)
    make_user("official_a", Role.COMMUNE_OFFICIAL, places.commune_a)
    make_user("admin", Role.ADMIN)
    found = World()
    for name in ("cadre_a", "cadre_b", "official_a"):
        found.tokens[name] = make_device(name)
    return found
