"""The forms error catalogue: problems a form author or a submitter can act on.

Every problem has a stable `code` from `CATALOGUE`, an English and a
Vietnamese message (English message ids, translated by the `giupho_forms` gettext
catalogue, see `forms.i18n`), and where it applies: the XLSForm sheet, row and column,
or the field path of the XForm. Messages say what is wrong *and* how to fix it.
"""

from __future__ import annotations

from dataclasses import asdict, dataclass

from forms.i18n import N_, render, vi


@dataclass(frozen=True, slots=True)
class FormProblem:
    code: str
    message: str
    message_vi: str = ""
    sheet: str | None = None
    row: int | None = None
    column: str | None = None
    field: str | None = None
    fix: str = ""
    fix_vi: str = ""

    def where(self) -> str:
        parts = []
        if self.field and self.sheet is None and self.row is None:
            parts.append(self.field)  # XForm uploads: the field path stands in for the row
        if self.sheet:
            parts.append(f"sheet '{self.sheet}'")
        if self.row is not None:
            parts.append(f"row {self.row}")
        if self.column:
            parts.append(f"column '{self.column}'")
        return ", ".join(parts)

    def __str__(self) -> str:
        where = self.where()
        return f"[{self.code}] {where + ': ' if where else ''}{self.message}"

    def to_dict(self) -> dict:
        return {k: v for k, v in asdict(self).items() if v not in (None, "")}


class FormError(Exception):
    """A form that cannot be used; `problems` lists every reason found."""

    def __init__(self, problems: list[FormProblem]) -> None:
        self.problems = problems
        super().__init__("; ".join(str(p) for p in problems))


class SubmissionError(Exception):
    """A submission body that cannot be read at all (not XML, hostile, too large)."""

    def __init__(self, code: str, message: str, message_vi: str = "", status: int = 400) -> None:
        self.code = code
        self.message = message
        self.message_vi = message_vi or message
        self.status = status
        super().__init__(f"[{code}] {message}")


@dataclass(frozen=True, slots=True)
class ProblemKind:
    """A catalogue entry: message and fix templates, English message ids with `%(name)s`
    placeholders; their Vietnamese is in the `giupho_forms` catalogue (`forms.i18n`)."""

    message: str
    fix: str = ""
    #: Parameters shown in Vietnamese from their `<name>_vi` value (see `forms.i18n.render`).
    localized: tuple[str, ...] = ()

    @property
    def message_vi(self) -> str:
        return vi(self.message)

    @property
    def fix_vi(self) -> str:
        return vi(self.fix) if self.fix else ""


# Form problems found when a form is loaded. Codes are stable: the API, the CLI and
# the upload page show them, and form authors search for them.
CATALOGUE: dict[str, ProblemKind] = {
    "xlsform.unreadable": ProblemKind(
        N_("The file could not be read as an XLSForm: %(detail)s"),
        N_("Save the form as .xlsx (or .xls, .csv, .md) with a 'survey' sheet and try again."),
    ),
    "xlsform.invalid": ProblemKind(
        # TRANSLATORS: pyxform's own (English) message, introduced in Vietnamese.
        N_("%(detail)s"),
        N_("Correct the cell pyxform names and upload the form again."),
    ),
    "xform.too_large": ProblemKind(
        N_("The XForm is %(size)s bytes; the limit is %(limit)s bytes."),
        N_("Move large choice lists to a CSV attachment (select_one_from_file)."),
    ),
    "xform.unreadable": ProblemKind(
        N_("The XForm is not well-formed XML: %(detail)s"),
        N_("Export the XForm again from your form tool, or upload the XLSForm instead."),
    ),
    "xform.forbidden": ProblemKind(
        N_("The XForm contains %(what)s, which giupho does not accept."),
        N_("Remove the DOCTYPE and entity declarations: ODK forms never need them."),
    ),
    "xform.structure": ProblemKind(
        N_("The XForm is missing %(what)s."),
        N_("Check that the form has h:head/model with a primary instance whose root has an id."),
    ),
    "expr.syntax": ProblemKind(
        N_("The expression %(expr)r cannot be read at character %(position)s: %(detail)s"),
        N_("Check brackets, quotes and operators near %(near)r."),
        localized=("detail",),
    ),
    "expr.unknown_reference": ProblemKind(
        N_("The expression %(expr)r refers to %(ref)s, which is not a field of this form."),
        N_("Rename the reference to an existing field, e.g. %(suggestion)s."),
    ),
    "expr.unsupported_function": ProblemKind(
        N_("The expression %(expr)r calls %(function)s(), which giupho cannot evaluate."),
        N_("Replace %(function)s() with a function of the ODK XForms spec%(hint)s."),
        localized=("hint",),
    ),
    "expr.bad_regex": ProblemKind(
        N_("The expression %(expr)r uses a regular expression that does not compile: %(detail)s."),
        N_("Correct the pattern in regex(), e.g. '^[0-9]{10}$' for ten digits."),
    ),
    "expr.cycle": ProblemKind(
        N_("The calculations depend on each other in a cycle: %(cycle)s."),
        N_("Break the cycle: one of these calculations must not use the others."),
    ),
    "field.duplicate": ProblemKind(
        N_("The primary instance has two nodes at %(field)s."),
        N_("Rename one of them, or declare the node as a repeat in the body."),
    ),
    "bind.duplicate": ProblemKind(
        N_("Two binds target %(field)s."),
        N_("Merge the two <bind> elements into one."),
    ),
    "bind.unknown_node": ProblemKind(
        N_("A %(element)s targets %(field)s, which is not in the primary instance."),
        N_("Add the node to the primary instance or correct the path."),
    ),
    "entities.version": ProblemKind(
        N_(
            "The form uses entities spec version %(version)s; giupho understands up to "
            "%(supported)s."
        ),
        N_("Convert the form with a pyxform release that emits entities %(supported)s or older."),
    ),
    "entities.declaration": ProblemKind(
        N_("The entity declaration at %(field)s is incomplete: %(detail)s"),
        N_("Give the entities sheet a list_name and a label (or entity_id for updates)."),
    ),
    "language.unknown": ProblemKind(
        N_("The language %(language)r is not one of the form's languages (%(languages)s)."),
        N_("Choose one of the form's languages, e.g. %(suggestion)r."),
    ),
}


def form_problem(
    code: str,
    *,
    sheet: str | None = None,
    row: int | None = None,
    column: str | None = None,
    field: str | None = None,
    **params: object,
) -> FormProblem:
    """A `FormProblem` for catalogue `code`, its templates filled with `params` (and, in
    Vietnamese, `detail_vi` for `detail` where the entry says so: see `ProblemKind.localized`)."""
    kind = CATALOGUE[code]
    values = {"sheet": sheet, "row": row, "column": column, "field": field, **params}
    message, message_vi = render(kind.message, values, kind.localized)
    fix, fix_vi = render(kind.fix, values, kind.localized) if kind.fix else ("", "")
    return FormProblem(
        code=code,
        message=message,
        message_vi=message_vi,
        sheet=sheet,
        row=row,
        column=column,
        field=field,
        fix=fix,
        fix_vi=fix_vi,
    )
