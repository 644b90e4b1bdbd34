"""The fingerprint of a submission's answers for the double-entry check (sync contract D4).

Two submissions are the same entry when their answers are the same once ids and
timestamps are left out: `meta` (instanceID, deprecatedID, instanceName, entity block)
and the metadata questions ODK fills by itself (start, end, today, deviceid, ...). Text
is compared in NFC without surrounding whitespace, and an empty answer is the same as a
missing one, as in the canonical form of `forms.canonical` (rule R2).
"""

from __future__ import annotations

import hashlib
import json
import unicodedata

#: Answers no person typed: ids, timestamps and device metadata (XLSForm metadata types).
IGNORED = frozenset(
    {"meta", "start", "end", "today", "deviceid", "username", "simserial", "subscriberid",
     "phonenumber", "email", "audit", "start-geopoint", "instanceID", "deprecatedID"}
)  # fmt: skip


def _clean(value):
    if isinstance(value, dict):
        inner = {k: _clean(v) for k, v in value.items() if k not in IGNORED}
        return {k: v for k, v in inner.items() if v not in ("", None, {}, [])}
    if isinstance(value, list):
        return [_clean(v) for v in value]
    if value is None:
        return ""
    return unicodedata.normalize("NFC", str(value).strip())


def answers_fingerprint(answers: dict) -> str:
    """SHA-256 hex of the answers without ids, timestamps and empty values."""
    text = json.dumps(_clean(answers or {}), sort_keys=True, ensure_ascii=False)
    return hashlib.sha256(text.encode("utf-8")).hexdigest()
