"""`giupho form ...`: form commands, a thin layer over `forms.load`.

`form` is a click group; `server/cli.py` mounts it under the top-level
`giupho` command. Other modules add their commands to it without touching this
file::

    from forms.cli import form

    @form.command("validate")
    def validate(...): ...
"""

from __future__ import annotations

from collections import Counter
from pathlib import Path

import click

from forms.errors import FormError, FormProblem
from forms.i18n import N_, render, vi
from forms.load import load_form
from forms.model import Field, FormModel


@click.group("form")
def form() -> None:
    """Check and inspect forms (XLSForm .xlsx/.xls/.csv/.md or XForm .xml)."""


@form.command("check")
@click.argument("file", type=click.Path(exists=True, dir_okay=False, path_type=Path))
@click.option("--lang", "default_language", help="Use this language as the form's default.")
def check(file: Path, default_language: str | None) -> None:
    """Load FILE as giupho would at upload; print its summary, or every problem (exit 1)."""
    try:
        model = load_form(file, default_language=default_language)
    except FormError as err:
        count, count_vi = render(N_("%(count)s problem(s)"), {"count": len(err.problems)})
        click.echo(f"{file.name}: {count} / {count_vi}")
        for problem in err.problems:
            click.echo(format_problem(problem))
        raise SystemExit(1) from None
    click.echo(summary(model))


_FIX = N_("Fix:")


def format_problem(problem: FormProblem) -> str:
    """A problem as the CLI prints it: code and place, then English, Vietnamese and the fix."""
    where = problem.where()
    lines = [f"ERROR [{problem.code}] {where}".rstrip()]
    lines.append(f"    {problem.message}")
    if problem.message_vi:
        lines.append(f"    {problem.message_vi}")
    if problem.fix:
        lines.append(f"    {_FIX} {problem.fix}")
    if problem.fix_vi:
        lines.append(f"    {vi(_FIX)} {problem.fix_vi}")
    return "\n".join(lines)


def summary(model: FormModel) -> str:
    """What the form is: id, version, title, languages, fields by kind and type, entities."""
    langs = [
        f"{lang} (default)" if lang == model.default_language else lang for lang in model.languages
    ]
    fields = [f for f in model.root.walk() if f is not model.root]
    counts = Counter(f.kind for f in fields)
    lines = [
        f"Form id:   {model.form_id}",
        f"Version:   {model.version or '(none)'}",
        f"Title:     {model.title}",
        f"Languages: {', '.join(langs) or '(no translations)'}",
        f"Fields:    {len(fields)} ("
        + ", ".join(f"{k} {n}" for k, n in sorted(counts.items()))
        + ")",
    ]
    lines += [_field_line(f, model) for f in fields]
    for entity in model.entities:
        lines.append(_entity_line(entity))
        lines += [f"  {prop} <- {path}" for prop, path in sorted(entity.properties.items())]
    lines += [f"Warning: {w}" for w in model.warnings]
    return "\n".join(lines)


def _field_line(f: Field, model: FormModel) -> str:
    indent = "  " * (f.path.count("/") - 2)
    name = indent + ("@" + f.name if f.kind == "attribute" else f.name)
    kind = f.datatype if f.kind == "question" else f.kind
    if f.kind in ("calculate", "meta", "attribute") and f.datatype:
        kind = f"{f.kind}:{f.datatype}"
    label = f.label.get(model.default_language)
    return f"  {name:<30} {kind:<20} {label}".rstrip()


def _entity_line(entity) -> str:
    actions = []
    if entity.static_create or entity.create_if is not None:
        actions.append("create" + _when(entity.create_if))
    if entity.static_update or entity.update_if is not None:
        actions.append("update" + _when(entity.update_if))
    spec = entity.spec_version or "?"
    return f"Entity list '{entity.dataset}' (spec {spec}): {', '.join(actions) or 'no action'}"


def _when(expr) -> str:
    source = getattr(expr, "source", None) if expr is not None else None
    return f" if {source.strip()}" if source else ""


# -- giupho form validate --------------------------------------------------------------


_FILE = click.Path(exists=True, dir_okay=False, path_type=Path)


@form.command("validate")
@click.argument("form_file", metavar="FORM", type=_FILE)
@click.argument("submission_file", metavar="SUBMISSION", type=_FILE)
@click.option("--json", "as_json", is_flag=True, help="Print JSON: {ok, issues, computed}.")
@click.option("--lang", type=click.Choice(["vi", "en"]), default="vi", show_default=True,
              help="Language of the messages.")  # fmt: skip
def validate_command(form_file: Path, submission_file: Path, as_json: bool, lang: str) -> None:
    """Check SUBMISSION (XML) against FORM; print issues and computed values (exit 1 on errors)."""
    import json

    from forms.errors import SubmissionError
    from forms.instance import parse_submission
    from forms.validation import validate

    try:
        model = load_form(form_file)
        submission = parse_submission(submission_file.read_bytes())
    except FormError as err:
        _fail(as_json, "form_invalid", [format_problem(p) for p in err.problems])
    except SubmissionError as err:
        text = err.message_vi if lang == "vi" else err.message
        _fail(as_json, err.code, [f"ERROR [{err.code}] {text}"])
    result = validate(model, submission.root)
    if as_json:
        click.echo(json.dumps(result.to_dict(), ensure_ascii=False, indent=2))
    else:
        click.echo(_validation_report(result, lang))
    raise SystemExit(0 if result.ok else 1)


def _fail(as_json: bool, code: str, lines: list[str]) -> None:
    """Print why the form or the submission could not be read at all, and exit 1."""
    import json

    if as_json:
        error = {"code": code, "message": "\n".join(lines)}
        click.echo(json.dumps({"ok": False, "error": error, "issues": [], "computed": {}},
                              ensure_ascii=False, indent=2))  # fmt: skip
    else:
        click.echo("\n".join(lines), err=True)
    raise SystemExit(1)


def _validation_report(result, lang: str) -> str:
    """Issues one per line (severity, path, code, message), then the computed values."""
    n = Counter(i.severity for i in result.issues)
    in_lang = 1 if lang == "vi" else 0  # render() gives (English, Vietnamese)
    head = render(
        N_("%(errors)s error(s), %(warnings)s warning(s), %(notes)s note(s)"),
        {"errors": n["error"], "warnings": n["warning"], "notes": n["info"]},
    )[in_lang]
    computed_head = render(N_("Computed values:"), {})[in_lang]
    lines = [head]
    for issue in result.issues:
        message = issue.message_vi if lang == "vi" else issue.message
        lines.append(f"{issue.severity.upper():<8}{issue.path}  [{issue.code}] {message}")
    if result.computed:
        lines.append(computed_head)
        lines += [f"  {path} = {value}" for path, value in result.computed.items()]
    return "\n".join(lines)
