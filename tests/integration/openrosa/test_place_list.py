"""The registration form offers each user only the places they may register in (issue 14).

The form reads `places.csv` (a CSV secondary instance, as ODK Collect, Enketo and ODK Web Forms
read `csv-external` lists), generated per user beside the households entity list; its place
questions filter their own choices by it. Evaluated here with the form's own XPath, as an
engine would: a cadre is offered their villages, not their neighbours'.
"""

from __future__ import annotations

import csv
import hashlib
import io

from forms.tree import Node
from forms.xpath.expr import Env
from tests.integration.contract.submissions import registration, registration_form
from tests.integration.openrosa.documents import form_entries, media_entries, path_of
from tests.integration.openrosa.world import OPENROSA

REGISTRATION = "giupho_household_registration"


def place_list(client, world, username: str) -> list[str]:
    """The codes in `username`'s places.csv, read through the manifest as Collect reads it."""
    listing = client.get(world.key_url(username, "/formList"), headers=OPENROSA)
    (entry,) = [e for e in form_entries(listing.data) if e["formID"] == REGISTRATION]
    manifest = client.get(path_of(entry["manifestUrl"]), headers=OPENROSA)
    found = {e["filename"]: e for e in media_entries(manifest.data)}
    assert set(found) == {"places.csv", "poverty_lines.csv"}  # the lines of issue 18 too
    media = found["places.csv"]
    assert "@type" not in media  # a plain media file
    data = client.get(path_of(media["downloadUrl"]), headers=OPENROSA)
    assert data.content_type == "text/csv; charset=utf-8"
    assert media["hash"] == "md5:" + hashlib.md5(data.data).hexdigest()
    return [row["name"] for row in csv.DictReader(io.StringIO(data.data.decode()))]


def offered(codes: list[str], question: str, **answers) -> list[str]:
    """The options the form offers at `question` ("village"...) with `codes` as places.csv."""
    form = registration_form()
    places = Node("root")
    for code in codes:
        item = Node("item")
        item.append(Node("name", code))
        places.append(item)
    root = registration(**answers)
    instances = {**form.instances, "places": places}
    env = Env(root=root, instances=instances)
    my_places = root.find("my_places")
    if my_places is None:
        my_places = Node("my_places")
        root.append(my_places)
    my_places.text = form.field("/data/my_places").calculate.evaluate(root, env)
    field = form.field(f"/data/place/{question}")
    here = root.find(f"place/{question}")
    found = field.choices.nodeset.evaluate(here, Env(root=root, instances=instances))
    return [item.child("name").text for item in found]


def test_a_cadre_s_place_list_holds_their_villages_commune_and_province(client, world):
    assert place_list(client, world, "cadre_a") == ["03325", "03325_01", "03325_02", "11"]
    assert place_list(client, world, "cadre_b") == ["03316", "03316_01", "11"]


def test_an_official_s_place_list_holds_every_village_of_their_commune(client, world):
    assert place_list(client, world, "official_a") == ["03325", "03325_01", "03325_02", "11"]


def test_the_registration_form_offers_only_the_cadre_s_places(client, world):
    codes = place_list(client, world, "cadre_b")

    assert offered(codes, "province") == ["11"]
    assert offered(codes, "commune", village="03316_01") == ["03316"]
    assert offered(codes, "village", village="03316_01") == ["03316_01"]


def test_without_a_place_list_the_form_offers_every_place_it_has(client, world):
    villages = offered([], "village", village="03325_01")
    assert {"03325_01", "03325_02", "03325_03", "03325_04"} <= set(villages)
