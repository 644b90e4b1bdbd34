"""The site speaks Vietnamese by default, with correct diacritics, and English on request: every
text the templates and views pass to `_` has its Vietnamese translation (a missing one would
show English to an official), and the switch is kept in the session."""

from __future__ import annotations

import re
import unicodedata
from pathlib import Path

from server.web import i18n

WEB = Path(i18n.__file__).parent
#: `_("...")` or `_('...')` in templates and Python, the message id as written.
CALL = re.compile(r"""\b_\(\s*(?:"((?:[^"\\]|\\.)*)"|'((?:[^'\\]|\\.)*)')""")


def _message_ids() -> set[str]:
    found = set()
    for path in [*WEB.glob("templates/*.html"), *WEB.glob("*.py")]:
        for match in CALL.finditer(path.read_text(encoding="utf-8")):
            text = match.group(1) if match.group(1) is not None else match.group(2)
            found.add(text.replace('\\"', '"').replace("\\'", "'"))
    return found


def test_every_text_of_the_site_has_its_vietnamese_translation():
    from server.services.review import pages as review_pages
    from server.web.quarantine import ADVICE, DEFAULT_ADVICE

    review_pages._household_kinds()  # the kinds added once their tables exist
    wanted = _message_ids() | {k.label for k in review_pages.WAITING_KINDS}
    wanted |= set(ADVICE.values()) | {DEFAULT_ADVICE}
    wanted |= {"received", "has_issues", "approved", "returned", "rejected"}
    missing = sorted(t for t in wanted if t not in i18n.VI)
    assert missing == []


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
    assert sorted(ids - set(i18n.VI)) == [] and sorted(ids - set(i18n.EN)) == []
    assert sorted(set(i18n.EN) - set(i18n.VI)) == []
    assert sorted(t for t in DONE.values() if t not in i18n.VI) == []


def test_vietnamese_texts_are_nfc_and_keep_their_placeholders():
    for english, vietnamese in i18n.VI.items():
        assert unicodedata.is_normalized("NFC", vietnamese), vietnamese
        assert set(re.findall(r"{\w+}", english)) == set(re.findall(r"{\w+}", vietnamese))


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
