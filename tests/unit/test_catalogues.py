"""The gettext catalogues are current: what `pybabel extract` finds in the code is what the
template and every language's catalogue hold, each Vietnamese text is there and keeps its
placeholders, and each committed `.mo` is the compilation of its `.po` (they ship as package
data, so neither `pip install -e .` nor a wheel compiles anything).

`make catalogues` brings them up to date (README, "Translations")."""

from __future__ import annotations

import fnmatch
import io
import re
import tomllib
import unicodedata
from dataclasses import dataclass
from pathlib import Path

import pytest
from babel.messages.catalog import Catalog
from babel.messages.extract import extract_from_dir
from babel.messages.frontend import parse_mapping_cfg
from babel.messages.mofile import write_mo
from babel.messages.pofile import read_po

ROOT = Path(__file__).resolve().parents[2]


@dataclass(frozen=True)
class Domain:
    package: str  # the folder `pybabel extract` reads, relative to the repository
    locale: str  # the folder of `<lang>/LC_MESSAGES/<domain>.po`, relative to the repository
    domain: str
    languages: tuple[str, ...]

    @property
    def pot(self) -> Path:
        return ROOT / self.locale / f"{self.domain}.pot"

    def po(self, lang: str) -> Path:
        return ROOT / self.locale / lang / "LC_MESSAGES" / f"{self.domain}.po"


DOMAINS = (
    Domain("server", "server/translations", "messages", ("vi", "en")),
    Domain("sync/client", "sync/client/locale", "giupho_sync", ("vi",)),
    Domain("forms", "forms/locale", "giupho_forms", ("vi",)),
)
CATALOGUES = [(d, lang) for d in DOMAINS for lang in d.languages]
PLACEHOLDER = re.compile(r"%\((\w+)\)[sdr]|%[sdr]")  # %(expr)r: a quoted expression


def _ids(d: Domain, lang: str) -> str:
    return f"{d.domain}-{lang}"


def _read(path: Path, lang: str | None = None) -> Catalog:
    with path.open("rb") as f:
        return read_po(f, locale=lang)


def _extracted(d: Domain) -> set[str]:
    with (ROOT / "babel.cfg").open(encoding="utf-8") as f:
        method_map, options_map = parse_mapping_cfg(f)
    return {
        message
        for _file, _line, message, _comments, _context in extract_from_dir(
            ROOT / d.package, method_map, options_map
        )
    }


def _msgids(catalogue: Catalog) -> set[str | tuple[str, ...]]:
    return {m.id for m in catalogue if m.id}  # iterating leaves out the obsolete (#~) ones


def _forms(text: str | tuple[str, ...]) -> tuple[str, ...]:
    """Every form of a message: one text, or (singular, plural) for ngettext."""
    return text if isinstance(text, tuple) else (text,)


@pytest.mark.parametrize("d", DOMAINS, ids=lambda d: d.domain)
def test_the_template_holds_what_the_code_marks_for_translation(d):
    """Fails when a `_("...")` (or `N_`) was added, changed or removed without running
    `make catalogues`."""
    extracted, template = _extracted(d), _msgids(_read(d.pot))
    assert extracted, "expected the extractor to find the marked texts"
    assert sorted(extracted - template) == [], "not in the .pot: run make catalogues"
    assert sorted(template - extracted) == [], "no longer in the code: run make catalogues"


@pytest.mark.parametrize(("d", "lang"), CATALOGUES, ids=[_ids(*c) for c in CATALOGUES])
def test_each_catalogue_holds_the_templates_message_ids(d, lang):
    """Fails when the .po files were not updated from the .pot (`pybabel update`)."""
    catalogue = _read(d.po(lang), lang)
    assert _msgids(catalogue) == _msgids(_read(d.pot))
    assert sorted(catalogue.obsolete) == [], "obsolete entries: drop them once translated anew"


@pytest.mark.parametrize("d", DOMAINS, ids=lambda d: d.domain)
def test_every_message_has_its_vietnamese(d):
    catalogue = _read(d.po("vi"), "vi")
    missing = sorted(
        _forms(m.id)[0]
        for m in catalogue
        if m.id and not all(t and t.strip() for t in _forms(m.string))
    )
    fuzzy = sorted(m.id for m in catalogue if m.id and m.fuzzy)
    assert missing == [] and fuzzy == []


@pytest.mark.parametrize(("d", "lang"), CATALOGUES, ids=[_ids(*c) for c in CATALOGUES])
def test_translations_keep_their_placeholders_and_are_nfc(d, lang):
    catalogue = _read(d.po(lang), lang)
    for message in catalogue:
        if not (message.id and message.string):
            continue
        wanted = sorted(PLACEHOLDER.findall(_forms(message.id)[-1]))  # the plural's, if any
        for text in _forms(message.string):
            assert sorted(PLACEHOLDER.findall(text)) == wanted, message.id
            assert unicodedata.is_normalized("NFC", text), text
            assert text.strip() == text, message.id
    assert [str(e) for m in catalogue for e in m.check(catalogue)] == []


@pytest.mark.parametrize(("d", "lang"), CATALOGUES, ids=[_ids(*c) for c in CATALOGUES])
def test_each_compiled_catalogue_is_its_po_compiled(d, lang):
    """Fails when a .po was edited without `pybabel compile`: the .mo is what runs."""
    compiled = io.BytesIO()
    write_mo(compiled, _read(d.po(lang), lang))
    committed = d.po(lang).with_suffix(".mo")
    assert committed.is_file(), f"{committed} is missing: run make catalogues"
    assert committed.read_bytes() == compiled.getvalue(), f"{committed}: run make catalogues"


def test_the_catalogues_are_package_data():
    """A wheel carries them: every .po, .mo and .pot matches the package-data patterns."""
    config = tomllib.loads((ROOT / "pyproject.toml").read_text("utf-8"))
    package_data = config["tool"]["setuptools"]["package-data"]
    files = [p for d in DOMAINS for p in (ROOT / d.locale).rglob("*") if p.is_file()]
    assert len(files) >= 8
    for path in files:
        package, _, inside = path.relative_to(ROOT).as_posix().partition("/")
        patterns = package_data.get(package, [])
        assert any(fnmatch.fnmatch(inside, p) for p in patterns), path
