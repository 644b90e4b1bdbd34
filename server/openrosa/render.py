"""OpenRosa XML documents: form list, manifest, entity integrity and the response envelope.

Written with lxml's element builder so every value is escaped, and without
indentation: Collect's integrity parser reads every child of `<entities>` as
an element and gives up on whitespace text between them.
"""

from __future__ import annotations

from dataclasses import dataclass

from lxml import etree
from lxml.builder import ElementMaker

from server import i18n
from server.i18n import N_

XFORMS_LIST = "http://openrosa.org/xforms/xformsList"
MANIFEST = "http://openrosa.org/xforms/xformsManifest"
RESPONSE = "http://openrosa.org/http/response"
XML_CONTENT_TYPE = "text/xml; charset=utf-8"

_LIST = ElementMaker(namespace=XFORMS_LIST, nsmap={None: XFORMS_LIST})
_MANIFEST = ElementMaker(namespace=MANIFEST, nsmap={None: MANIFEST})
_RESPONSE = ElementMaker(namespace=RESPONSE, nsmap={None: RESPONSE})
_PLAIN = ElementMaker()


@dataclass(frozen=True)
class FormEntry:
    """One `<xform>` of the form list."""

    form_id: str
    name: str
    version: str
    md5: str
    download_url: str
    manifest_url: str | None = None


@dataclass(frozen=True)
class MediaEntry:
    """One `<mediaFile>` of a manifest; `integrity_url` only for entity lists."""

    filename: str
    md5: str
    download_url: str
    entity_list: bool = False
    integrity_url: str | None = None


_DECLARATION = b'<?xml version="1.0" encoding="UTF-8"?>'


def _bytes(root: etree._Element) -> bytes:
    return _DECLARATION + etree.tostring(root, encoding="UTF-8")


def form_list(entries: list[FormEntry]) -> bytes:
    """`<xforms>`: formID, name, version, hash, downloadUrl and manifestUrl per form."""
    items = []
    for e in entries:
        children = [
            _LIST.formID(e.form_id),
            _LIST.name(e.name or e.form_id),
            _LIST.version(e.version),
            _LIST.hash(f"md5:{e.md5}"),
            _LIST.downloadUrl(e.download_url),
        ]
        if e.manifest_url:
            children.append(_LIST.manifestUrl(e.manifest_url))
        items.append(_LIST.xform(*children))
    return _bytes(_LIST.xforms(*items))


def manifest(entries: list[MediaEntry]) -> bytes:
    """`<manifest>`: filename, hash, downloadUrl per file; entity lists typed, with integrityUrl."""
    files = []
    for e in entries:
        children = [
            _MANIFEST.filename(e.filename),
            _MANIFEST.hash(f"md5:{e.md5}"),
            _MANIFEST.downloadUrl(e.download_url),
        ]
        attrs = {}
        if e.entity_list:
            attrs["type"] = "entityList"
            if e.integrity_url:
                children.append(_MANIFEST.integrityUrl(e.integrity_url))
        files.append(_MANIFEST.mediaFile(*children, **attrs))
    return _bytes(_MANIFEST.manifest(*files))


def integrity(states: dict[str, bool]) -> bytes:
    """`<data><entities><entity id=...><deleted>true|false</deleted>...`, as Collect parses it."""
    entities = [
        _PLAIN.entity(_PLAIN.deleted("true" if deleted else "false"), id=entity_id)
        for entity_id, deleted in states.items()
    ]
    return _bytes(_PLAIN.data(_PLAIN.entities(*entities)))


def response(message: str, nature: str) -> bytes:
    """The OpenRosa response envelope: one message Collect shows to the officer."""
    return _bytes(_RESPONSE.OpenRosaResponse(_RESPONSE.message(message, nature=nature)))


# Messages for a stored submission (errors come from the problem catalogue).
SUCCESS = {
    "accepted": N_("Submission received. Thank you."),
    "invalid": N_(
        "Submission received, but %(count)s answer(s) need checking: the commune will review it."
    ),
    "duplicate": N_("The server already has this submission; there is no need to send it again."),
}


def success_message(result: str, lang: str, count: int = 0) -> str:
    """The officer's message for a stored submission, in `lang` (vi or en)."""
    return i18n.gettext(SUCCESS[result], lang) % {"count": count}
