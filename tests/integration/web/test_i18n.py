"""The site speaks Vietnamese by default, with correct diacritics, and English on request: every
text the templates and views pass to `_` has its Vietnamese translation in the gettext
catalogue (a missing one would show English to an official), and the switch is kept in the
session. `tests/unit/test_catalogues.py` checks that the catalogues hold every text the code
marks, keep their placeholders and are compiled."""

from __future__ import annotations

import re

import pytest
from babel.messages.mofile import read_mo

from server import i18n as catalogues
from server.web import i18n

DOTTED = re.compile(r"[a-z_]+\.[a-z_]+")


def _translated(lang: str) -> dict[str, str]:
    """The message ids of `lang`'s compiled catalogue (the one that runs), with their text."""
    path = catalogues.TRANSLATIONS / lang / "LC_MESSAGES" / f"{catalogues.DOMAIN}.mo"
    with path.open("rb") as f:
        return {m.id: m.string for m in read_mo(f) if m.id and m.string}


def test_every_text_of_the_site_has_its_vietnamese_translation():
    """Including the texts the pages compute rather than write out: a dashboard kind's label
    (from `review_pages`), a review state, the quarantine advice, what a decision did."""
    from server.services.review import pages as review_pages
    from server.web.quarantine import ADVICE, DEFAULT_ADVICE

    review_pages._household_kinds()  # the kinds added once their tables exist
    wanted = {k.label for k in review_pages.WAITING_KINDS} | set(i18n.COMPUTED)
    wanted |= set(ADVICE.values()) | {DEFAULT_ADVICE}
    wanted |= {"received", "has_issues", "approved", "returned", "rejected"}
    vietnamese = _translated("vi")
    assert sorted(t for t in wanted if t not in vietnamese) == []


def test_every_stored_value_the_household_pages_name_has_both_languages():
    """The pages show stored values by dotted ids (`("case." ~ status)|action_label`): each
    one has its Vietnamese and its English."""
    from server.models import CaseStatus, ExitDecision, HouseholdStatus
    from server.web.duplicates import DONE

    # `server.dedup.score.score` parts, and the key an exact match (D1) names.
    breakdown = ("name", "birth_year", "cccd", "household_code", "phone", "distance", "village",
                 "members", "code", "cccd")  # fmt: skip
    ids = (
        {f"case.{s.value}" for s in CaseStatus} | {"case.all", "kind.exact", "kind.fuzzy"}
        | {f"household.{s.value}" for s in HouseholdStatus}
        | {f"exit.{d.value}" for d in ExitDecision}
        | {f"score.{name}" for name in breakdown}
        | {f"version.{k}" for k in ("submission", "resolve", "duplicate_merge",
                                    "duplicate_unmerge", "duplicate_unlink")}
        | {f"flag.{f}" for f in ("conflict", "hold_timeout", "auto_linked", "redirected",
                                 "closed_update")}
    )  # fmt: skip
    vietnamese, english = _translated("vi"), _translated("en")
    assert sorted(ids - set(vietnamese)) == [] and sorted(ids - set(english)) == []
    # every dotted id the catalogue knows (audit actions too) is worded in both languages
    dotted = {m for m in vietnamese if DOTTED.fullmatch(m)}
    assert ids <= dotted
    assert sorted(dotted - set(english)) == [] and sorted(dotted - set(vietnamese)) == []
    # the English catalogue translates the dotted ids only: the other ids are their English
    assert sorted(m for m in english if not DOTTED.fullmatch(m)) == []
    assert sorted(t for t in DONE.values() if t not in vietnamese) == []


@pytest.mark.parametrize(
    ("lang", "expected"),
    [("vi", "Đã đăng nhập: Chị Hoa <b>"), ("en", "Signed in as Chị Hoa <b>")],
)
def test_views_translate_with_flask_babel_and_named_placeholders(app, lang, expected):
    with app.test_request_context("/review"):
        from flask import session

        session[i18n.SESSION_KEY] = lang
        assert i18n.language() == lang
        assert i18n._("Signed in as %(name)s", name="Chị Hoa <b>") == expected
        assert i18n._("case.merged") == {"vi": "đã gộp", "en": "merged"}[lang]
        assert i18n._("has_issues") == {"vi": "có vấn đề", "en": "has_issues"}[lang]


def test_the_site_is_vietnamese_by_default_and_english_on_request(site, browser_of):
    browser = browser_of("official_a")
    vietnamese = browser.get("/review").get_data(as_text=True)
    assert '<html lang="vi">' in vietnamese and "Hộ theo phân loại nghèo" in vietnamese
    browser.post("/language", {"lang": "en", "next": "/review"})
    english = browser.get("/review").get_data(as_text=True)
    assert '<html lang="en">' in english and "Households by poverty status" in english
    assert "near-poor household" in english  # the standard's own English status words
    browser.post("/language", {"lang": "vi", "next": "/review"})
    assert "Hộ theo phân loại nghèo" in browser.get("/review").get_data(as_text=True)


def test_the_language_chosen_before_signing_in_is_kept(app, site, browser_of):
    browser = browser_of(None)
    browser.get("/signin")
    browser.post("/language", {"lang": "en", "next": "/signin"})
    assert "User name" in browser.get("/signin").get_data(as_text=True)
    browser.sign_in("official_a")
    assert "Households by poverty status" in browser.get("/review").get_data(as_text=True)
