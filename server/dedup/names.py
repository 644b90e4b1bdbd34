"""Vietnamese names as matching keys (domain.md, "Names").

Two keys for every text, as the domain facts prescribe:

1. `canonical`: NFC, look-alike letters replaced (Icelandic Ð for Đ, Cyrillic а/о/е ...),
   one apostrophe, lower case, single spaces and ONE tone-mark placement per syllable
   (hoà = hòa, thuỷ = thủy, khoẻ = khỏe: NFC does not unify them), plus the i/y variants
   of one-vowel syllables (Lý = Lí, Mỹ = Mĩ);
2. `folded`: the canonical key with every accent stripped and đ mapped to d (NFD leaves đ
   alone), for text typed without accents, and with regional spellings of one name mapped
   to one form (Hoàng/Huỳnh, Vũ/Võ, Phúc/Phước).

`parse` splits a full name into family and given name the way the name is built: Kinh
names are family + middle names + given name; Ê Đê and M'nông names start with a prefix
(Y for men, H' for women; Kơ Ho K'/Ka) followed by the given name, with the clan last,
and cadres often write the clan first. "First word = family name" is wrong for them.

What the user typed is kept for display by the caller; these keys are only compared.
The functions are pure, so the costly ones are memoised (names repeat a lot: the score
compares one new name with dozens of candidates).
"""

from __future__ import annotations

import re
import unicodedata
from dataclasses import dataclass
from functools import lru_cache

#: Combining tone marks (huyền, sắc, ngã, hỏi, nặng) after NFD.
TONE_MARKS = frozenset("\u0300\u0301\u0303\u0309\u0323")
#: Vowel letters without tone, after NFC and lower case.
VOWELS = frozenset("aăâeêioôơuưy")
#: Vowels whose quality mark (breve, circumflex, horn) takes the tone in a cluster.
MARKED_VOWELS = frozenset("ăâêôơư")

#: Characters typed for Vietnamese letters they look like, and apostrophe variants.
LOOK_ALIKES = str.maketrans(
    {
        "\u00d0": "\u0110",  # Icelandic Ð -> Đ
        "\u00f0": "\u0111",  # ð -> đ
        "\u0189": "\u0110",  # African Ɖ -> Đ
        "\u0256": "\u0111",  # ɖ -> đ
        "\u0430": "a", "\u0435": "e", "\u043e": "o", "\u0440": "p", "\u0441": "c",
        "\u0443": "y", "\u0445": "x", "\u0456": "i", "\u0410": "A", "\u0415": "E",
        "\u041e": "O", "\u0420": "P", "\u0421": "C", "\u0425": "X", "\u041d": "H",
        "\u041a": "K", "\u041c": "M", "\u0422": "T", "\u0412": "B",
        "\u2019": "'", "\u2018": "'", "\u02bc": "'", "\u02bb": "'", "`": "'",
        "\u00b4": "'", "\u2032": "'", "\uff07": "'",
    }
)  # fmt: skip

#: Regional spellings of one name, folded -> the form keys use (domain.md).
REGIONAL = {"huynh": "hoang", "vo": "vu", "phuoc": "phuc"}

#: Prefixes of Central Highlands names (folded): Y (Ê Đê/M'nông men), H' (women), K'/Ka
#: (Kơ Ho). Only a prefix when the name has more words.
HIGHLAND_PREFIXES = frozenset({"y", "h", "k", "ka"})

#: One-vowel syllables written with i or y (Lý/Lí, Kỳ/Kì, Mỹ/Mĩ, Sỹ/Sĩ, Quý/Quí).
_I_OR_Y = re.compile(r"^(l|k|m|s|v|h|t|qu)y$")
_SPLIT = re.compile(r"[\s']+")


def clean(text: str) -> str:
    """NFC, look-alike letters and apostrophes replaced, lower case, single spaces; a highland
    prefix written against the name (HNghia, KBrơi, KaNhung) is split off first."""
    text = unicodedata.normalize("NFC", text or "").translate(LOOK_ALIKES)
    return " ".join(_split_prefix(w) for w in text.split()).lower()


def _split_prefix(word: str) -> str:
    """ "HNghia" -> "H Nghia": a prefix glued to a capitalised name. The capital after it is
    the only sign in the typed text (all caps or all lower case stay as typed; `_unglued`
    handles those after folding)."""
    for prefix in ("Ka", "H", "K", "Y"):
        head, rest = word[: len(prefix)], word[len(prefix) :]
        if strip_accents(head) != prefix or len(rest) < 2 or not rest[0].isupper():
            continue
        consonant = strip_accents(rest[0]).lower() not in _FOLDED_VOWELS
        if consonant and any(c.islower() for c in rest[1:]):
            return f"{head} {rest}"
    return word


@lru_cache(maxsize=65536)
def syllable(word: str) -> str:
    """One syllable (lower case, NFC) with its tone mark on the vowel chosen by one rule.

    The rule (the "old style" placement most keyboards use): in a cluster, the vowel with a
    quality mark (the last one: ươ -> ơ); else the last vowel when a consonant follows;
    else the first of two vowels (hòa, thủy, mùa) or the middle of three (ngoài, khuỷu).
    The u of qu- and the i of gi- belong to the consonant. i/y variants of one-vowel
    syllables become i.
    """
    decomposed = unicodedata.normalize("NFD", word)
    tone = next((c for c in decomposed if c in TONE_MARKS), "")
    bare = unicodedata.normalize("NFC", "".join(c for c in decomposed if c not in TONE_MARKS))
    if _I_OR_Y.match(bare):
        bare = bare[:-1] + "i"
    at = _tone_position(bare) if tone else None
    if at is None:
        return unicodedata.normalize("NFC", bare + tone) if tone else bare
    return unicodedata.normalize("NFC", bare[: at + 1] + tone + bare[at + 1 :])


def _tone_position(bare: str) -> int | None:
    """Index of the vowel that carries the tone in a toneless syllable, or None (no vowel)."""
    run: list[int] = []
    for i, ch in enumerate(bare):
        if ch in VOWELS:
            if run and i != run[-1] + 1:
                break
            run.append(i)
        elif run:
            break
    if not run:
        return None
    start = run[0]
    if len(run) > 1 and start > 0:
        onset = bare[start - 1] + bare[start]
        if onset == "qu" or (onset == "gi" and start == 1):
            run = run[1:]
    marked = [i for i in run if bare[i] in MARKED_VOWELS]
    if marked:
        return marked[-1]
    if len(run) == 1 or run[-1] + 1 < len(bare):
        return run[-1]
    return run[0] if len(run) == 2 else run[1]


@lru_cache(maxsize=65536)
def canonical(text: str) -> str:
    """Matching key 1: cleaned text with one tone placement per syllable."""
    return " ".join(_canonical_word(w) for w in clean(text).split(" ") if w)


def _canonical_word(word: str) -> str:
    return "'".join(syllable(part) for part in word.split("'"))


def strip_accents(text: str) -> str:
    """Every combining mark removed, đ -> d (NFD does not decompose đ)."""
    decomposed = unicodedata.normalize("NFD", text)
    bare = "".join(c for c in decomposed if not unicodedata.combining(c))
    return bare.replace("đ", "d").replace("Đ", "D")


#: Telex and VNI keystrokes left in a word when the Vietnamese keyboard was off ("Hungf",
#: "Nguyeenx", "Hu7ng", "D9a8ng5"), read on the folded word: doubled vowels and dd are one
#: letter, w after a vowel is a horn or breve, digits are VNI marks, and s/f/x/j after a
#: vowel or at the end is a tone key (no Vietnamese syllable has those there). The hỏi key r
#: is left alone: highland names end in r (Ksor, Bơr), and one letter more is a small
#: difference for the fuzzy comparison.
_TELEX = (
    (re.compile(r"[0-9]"), ""),
    (re.compile(r"d+(?=d)"), ""),
    (re.compile(r"([aeo])\1+"), r"\1"),
    (re.compile(r"(?<=[aeiouy])w"), ""),
    (re.compile(r"(?<=[aeiouy])[sfxj]"), ""),
    (re.compile(r"(?<=[a-z]{2})[sfxj]$"), ""),  # tone key after the final consonant
)


def _typed_keys(plain: str) -> str:
    while True:  # to a fixed point, so that folding a folded word changes nothing
        before = plain
        for pattern, replacement in _TELEX:
            plain = pattern.sub(replacement, plain)
        if plain == before or not plain:
            return plain


@lru_cache(maxsize=65536)
def fold_word(word: str) -> str:
    """A canonical word without accents, Telex/VNI leftovers read, regional spelling mapped."""
    plain = strip_accents(word)
    plain = _typed_keys(plain) or plain
    return REGIONAL.get(plain, plain)


#: Vowels, for telling a glued highland prefix from a Vietnamese onset (h, y and k are
#: always followed by a vowel, or k by h, in a Vietnamese syllable).
_FOLDED_VOWELS = frozenset("aeiouy")


def _unglued(word: str) -> tuple[str, ...]:
    """A folded word with a highland prefix glued on in lower case or capitals ("hnghia",
    "HLIN"): the prefix apart, ("h", "nghia"). Only h and y: a K before a consonant starts
    clan names (Ksor, Ktla, Kpă)."""
    if len(word) > 2 and word[0] in "hy" and word[1] not in _FOLDED_VOWELS:
        return word[0], word[1:]
    return (word,)


@lru_cache(maxsize=65536)
def folded_words(text: str) -> tuple[str, ...]:
    """The folded words of a name: canonical, accents stripped, đ -> d, regional spellings
    and typing leftovers read, apostrophes and glued highland prefixes as word breaks."""
    return tuple(part for w in tokens(text) for part in _unglued(fold_word(w)))


def folded(text: str) -> str:
    """Matching key 2: the folded words (H'Râu = H Râu = HRâu = H’Râu)."""
    return " ".join(folded_words(text))


def tokens(text: str) -> list[str]:
    """The canonical words of a name, apostrophes splitting words (H'Râu -> h, râu)."""
    return [w for w in _SPLIT.split(canonical(text)) if w]


@dataclass(frozen=True)
class NameParts:
    """A full name's parts as folded words: `family` and `given` ("" when unknown)."""

    words: tuple[str, ...]
    family: str
    given: str
    highland: bool


@lru_cache(maxsize=65536)
def parse(text: str) -> NameParts:
    """Family and given name of a full name, Kinh or Central Highlands (folded words).

    Kinh: the first word is the family name, the last the given name (middle names may
    be dropped). A highland prefix (Y, H', K', Ka) stands before the given name; the
    clan is the other part, written after the given name (Ê Đê) or before the prefix.
    """
    words = folded_words(text)
    if not words:
        return NameParts((), "", "", False)
    if len(words) == 1:
        return NameParts(words, "", words[0], False)
    prefix = next(
        (
            i
            for i, w in enumerate(words[:-1])
            if w in HIGHLAND_PREFIXES and words[i + 1] not in HIGHLAND_PREFIXES
        ),
        None,
    )
    if prefix is None:
        return NameParts(words, words[0], words[-1], False)
    given = words[prefix + 1]
    clan = words[:prefix] if prefix > 0 else words[prefix + 2 :]
    return NameParts(words, clan[0] if clan else "", given, True)


@lru_cache(maxsize=65536)
def comparable(text: str) -> str:
    """The folded name without highland prefixes, for fuzzy comparison."""
    parts = parse(text)
    if not parts.highland:
        return " ".join(parts.words)
    return " ".join(w for w in parts.words if w not in HIGHLAND_PREFIXES)
