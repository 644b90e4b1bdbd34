"""`load_form`: any form file in, a checked `FormModel` out, or a `FormError` listing every problem.

XLSForms go through pyxform first; both kinds then take the one XForm path
(`forms.xform`) and the same load-time checks (`forms.checks`).
"""

from __future__ import annotations

import os
from pathlib import PurePath

from forms.checks import check_reading
from forms.errors import FormError
from forms.model import FormModel
from forms.xform import parse_xform
from forms.xlsform import XLSFORM_EXTENSIONS, convert_xlsform


def load_form(
    source: bytes | str | os.PathLike,
    filename: str | None = None,
    *,
    default_language: str | None = None,
) -> FormModel:
    """Read and check a form: an XForm (.xml) or an XLSForm (.xlsx, .xls, .csv, .md).

    `source` is a path, the file's bytes, or form text (a str with line breaks,
    such as a markdown XLSForm). `filename` names the type when `source` is
    content; without it the content is sniffed. `default_language` overrides
    the form's default language.
    """
    data, name = _read(source, filename)
    if _is_xform(data, name):
        reading = parse_xform(data, default_language=default_language)
        source_map, warnings = None, []
    else:
        converted = convert_xlsform(data, name, default_language=default_language)
        reading = parse_xform(converted.xform, default_language=default_language)
        source_map, warnings = converted.source_map, converted.warnings
    problems = check_reading(reading, source_map)
    if problems:
        raise FormError(problems)
    reading.model.warnings[:0] = warnings
    return reading.model


def _read(source: bytes | str | os.PathLike, filename: str | None) -> tuple[bytes, str | None]:
    if isinstance(source, bytes | bytearray):
        return bytes(source), filename
    if isinstance(source, str) and "\n" in source:  # form text rather than a path
        return source.encode("utf-8"), filename
    path = PurePath(os.fspath(source))
    with open(path, "rb") as fh:
        return fh.read(), filename or path.name


def _is_xform(data: bytes, name: str | None) -> bool:
    suffix = PurePath(name).suffix.lower() if name else ""
    if suffix == ".xml":
        return True
    if suffix in XLSFORM_EXTENSIONS:
        return False
    # No telling name: XML starts with '<' (after an optional BOM and blanks).
    return data.lstrip(b"\xef\xbb\xbf \t\r\n").startswith(b"<")
