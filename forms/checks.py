"""Load-time checks: a form is refused unless every expression in it can be used.

Every expression must parse, refer only to nodes of the form, call only
functions `forms.xpath` can evaluate, and calculations must not depend on
themselves. All problems are collected, not only the first, and each is
placed where the author can fix it: the XLSForm sheet, row and column (through
`forms.xlsform.SourceMap`) or, for an uploaded XForm, the field path and
attribute.
"""

from __future__ import annotations

import difflib
import graphlib
from dataclasses import replace

from forms.errors import FormProblem, form_problem
from forms.i18n import N_, render
from forms.model import FormModel
from forms.xform import ExprSite, XFormReading, syntax_params
from forms.xlsform import SourceMap
from forms.xpath import SUPPORTED_FUNCTIONS, XPathSyntaxError, parse
from forms.xpath.fn_odk import literal_regex_errors


def check_reading(reading: XFormReading, source_map: SourceMap | None = None) -> list[FormProblem]:
    """Every problem of a read XForm, located in the XLSForm when `source_map` is given."""
    model = reading.model
    problems = [_place_structural(p, source_map) for p in reading.problems]
    for site in reading.sites:
        where = locate(site, source_map)
        text = _cell_text(site, where, source_map)
        if site.error is not None:
            problems.append(form_problem("expr.syntax", **where, **_syntax(site, text)))
            continue
        problems += _reference_problems(site, model, where, text)
        problems += _function_problems(site, where, text)
        problems += [
            form_problem("expr.bad_regex", **where, expr=text, detail=str(err))
            for err in literal_regex_errors(site.expr.ast)
        ]
    problems += cycle_problems(reading, source_map)
    return list(dict.fromkeys(problems))  # one report per problem, in form order


def locate(site: ExprSite, source_map: SourceMap | None) -> dict:
    """Where to report a problem in `site`: XLSForm cell if known, else field and attribute."""
    cell = None
    if source_map is not None:
        if site.xls_sheet == "entities":
            cell = source_map.entity_cell(site.dataset or "", site.xls_key)
        elif site.xls_sheet == "settings":
            cell = source_map.settings_cell(site.xls_key)
        else:
            cell = source_map.field_cell(site.field, site.xls_key)
    if cell is None:
        return {"field": site.field, "column": site.attribute}
    return {"sheet": cell.sheet, "row": cell.row, "column": cell.column, "field": site.field}


def _place_structural(problem: FormProblem, source_map: SourceMap | None) -> FormProblem:
    cell = source_map.field_cell(problem.field) if source_map and problem.field else None
    return replace(problem, sheet=cell.sheet, row=cell.row) if cell else problem


def _cell_text(site: ExprSite, where: dict, source_map: SourceMap | None) -> str:
    """The expression as the author typed it: the XLSForm cell if known, else the XForm text."""
    if source_map is not None and "sheet" in where:
        text = source_map.cell_text(where["sheet"], where["row"], site.xls_key)
        if text and text.strip():
            return text.strip()
    return site.source.strip()


def _syntax(site: ExprSite, text: str) -> dict:
    """Syntax error parameters, for the text the author typed when it is a spreadsheet cell.

    pyxform rewrites `${name}` to ` /data/path ` in the XForm, so positions there
    do not match the cell; parsing the cell with each `${name}` replaced by a
    name of the same length gives the position in the cell itself.
    """
    params = syntax_params(site)
    if text == site.source.strip():
        return params
    try:
        parse(_mask_refs(text))
    except XPathSyntaxError as err:
        position = err.position
        return params | {
            "expr": text,
            "position": position + 1,
            "detail": err.message,
            "detail_vi": err.message_vi,
            "near": text[max(0, position - 5) : position + 10],
        }
    return params


def _mask_refs(text: str) -> str:
    out, i = [], 0
    while i < len(text):
        end = text.find("}", i) if text.startswith("${", i) else -1
        if end > i:
            out.append("x" * (end - i + 1))
            i = end + 1
        else:
            out.append(text[i])
            i += 1
    return "".join(out)


# A context no form has: references resolved against it were written relative.
_STAND_IN = "/" + "/".join(["__relative__"] * 16)


def _reference_problems(
    site: ExprSite, model: FormModel, where: dict, text: str
) -> list[FormProblem]:
    """Absolute paths (as written) that name no node of the primary instance.

    Relative paths are not refused: ODK clients read a missing relative node as
    empty, and pyxform emits such paths (an entities label naming a column).
    """
    problems = []
    for ref in sorted(site.expr.references(_STAND_IN)):
        if "__relative__" in ref or ref in model.fields or "*" in ref or "//" in ref:
            continue
        problems.append(
            form_problem(
                "expr.unknown_reference",
                **where,
                expr=text,
                ref=ref,
                suggestion=_suggest(ref, model, as_xlsform="sheet" in where),
            )
        )
    return problems


def _suggest(ref: str, model: FormModel, as_xlsform: bool) -> str:
    """The field closest to `ref` (by last step, then whole path), as the author writes it."""
    questions = [f for f in model.fields.values() if f is not model.root and f.kind != "attribute"]
    by_name = {f.name: f for f in questions}
    close = difflib.get_close_matches(ref.rsplit("/", 1)[-1], list(by_name), n=1, cutoff=0.5)
    if close:
        best = by_name[close[0]]
    else:
        by_path = {f.path: f for f in questions}
        close = difflib.get_close_matches(ref, list(by_path), n=1, cutoff=0.0)
        best = by_path[close[0]] if close else None
    if best is None:
        return f"/{model.root_name}/..."
    return "${" + best.name + "}" if as_xlsform else best.path


def _function_problems(site: ExprSite, where: dict, text: str) -> list[FormProblem]:
    problems = []
    for name in sorted(site.expr.functions() - set(SUPPORTED_FUNCTIONS)):
        close = difflib.get_close_matches(name, SUPPORTED_FUNCTIONS, n=1, cutoff=0.6)
        hint = hint_vi = ""
        if close:  # the suggestion ends the message: ", e.g. count()"
            example, example_vi = render(N_("e.g. %(function)s()"), {"function": close[0]})
            hint, hint_vi = f", {example}", f", {example_vi}"
        problems.append(
            form_problem(
                "expr.unsupported_function",
                **where,
                expr=text,
                function=name,
                hint=hint,
                hint_vi=hint_vi,
            )
        )
    return problems


def cycle_problems(reading: XFormReading, source_map: SourceMap | None) -> list[FormProblem]:
    """Calculations that depend on themselves, one problem per cycle found.

    graphlib reports one cycle at a time; removing its nodes and sorting again
    finds the others without writing our own strongly-connected-components pass.
    """
    calc_sites = {s.field: s for s in reading.sites if s.attribute == "calculate" and s.expr}
    graph = {
        path: {r for r in site.expr.references(site.context) if r in calc_sites}
        for path, site in calc_sites.items()
    }
    problems = []
    while True:
        try:
            graphlib.TopologicalSorter(graph).prepare()
            return problems
        except graphlib.CycleError as err:
            cycle = list(reversed(err.args[1]))
        names = [_display(p, reading.model, source_map) for p in cycle]
        site = calc_sites[cycle[0]]
        problems.append(
            form_problem("expr.cycle", **locate(site, source_map), cycle=" → ".join(names))
        )
        for path in set(cycle):
            graph.pop(path, None)
        graph = {p: deps - set(cycle) for p, deps in graph.items()}


def _display(path: str, model: FormModel, source_map: SourceMap | None) -> str:
    if source_map is None:
        return path
    f = model.fields.get(path)
    return "${" + f.name + "}" if f is not None and f.kind != "attribute" else path
