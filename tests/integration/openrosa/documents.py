"""Reading OpenRosa responses the way ODK Collect does: strict namespaces, required children."""

from __future__ import annotations

from lxml import etree

XFORMS_LIST = "http://openrosa.org/xforms/xformsList"
MANIFEST = "http://openrosa.org/xforms/xformsManifest"
RESPONSE = "http://openrosa.org/http/response"
#: Headers every OpenRosa response carries (odk-interop.md).
REQUIRED_HEADERS = (
    "X-OpenRosa-Version",
    "Date",
    "Content-Language",
    "X-OpenRosa-Accept-Content-Length",
)


def parse(body: bytes) -> etree._Element:
    return etree.fromstring(body, etree.XMLParser(resolve_entities=False, no_network=True))


def children(element: etree._Element, namespace: str) -> dict[str, str]:
    """Child elements in `namespace` by local name -> text (Collect ignores other namespaces)."""
    return {
        etree.QName(child).localname: (child.text or "")
        for child in element
        if isinstance(child.tag, str) and etree.QName(child).namespace == namespace
    }


def form_entries(body: bytes) -> list[dict[str, str]]:
    """The `<xform>` entries of a form list, checked as Collect checks them."""
    root = parse(body)
    assert etree.QName(root) == etree.QName(XFORMS_LIST, "xforms")
    entries = []
    for xform in root:
        assert etree.QName(xform) == etree.QName(XFORMS_LIST, "xform")
        entry = children(xform, XFORMS_LIST)
        # Collect drops the whole list when one entry lacks any of these.
        assert entry.get("formID") and entry.get("name") and entry.get("downloadUrl"), entry
        assert entry["hash"].startswith("md5:") and len(entry["hash"]) == 36
        entries.append(entry)
    return entries


def media_entries(body: bytes) -> list[dict[str, str]]:
    """The `<mediaFile>` entries of a manifest, with their `type` attribute under "@type"."""
    root = parse(body)
    assert etree.QName(root) == etree.QName(MANIFEST, "manifest")
    entries = []
    for media in root:
        assert etree.QName(media) == etree.QName(MANIFEST, "mediaFile")
        entry = children(media, MANIFEST)
        # A mediaFile missing one of these makes Collect drop the whole manifest.
        assert entry.get("filename") and entry.get("hash") and entry.get("downloadUrl"), entry
        assert entry["hash"].startswith("md5:")
        if media.get("type") is not None:
            entry["@type"] = media.get("type")
        entries.append(entry)
    return entries


def message(body: bytes) -> tuple[str, str]:
    """(nature, text) of an `<OpenRosaResponse>` envelope."""
    root = parse(body)
    assert etree.QName(root) == etree.QName(RESPONSE, "OpenRosaResponse")
    (found,) = root.findall(f"{{{RESPONSE}}}message")
    return found.get("nature"), found.text or ""


def path_of(url: str) -> str:
    """The path and query of an absolute URL (the test client takes paths)."""
    return "/" + url.split("/", 3)[3]
