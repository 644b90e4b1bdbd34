"""ODK XPath: parse once, evaluate many times.

    from forms.xpath import parse, Env
    expr = parse("if(/data/a > 3, 'big', 'small')")   # XPathSyntaxError with .position
    expr.evaluate(node, Env(root=instance_root))       # str | float | bool | list of nodes
    expr.eval_string(...) / eval_number(...) / eval_boolean(...)
    expr.unparse(), expr.references("/data/g/q"), expr.functions(), expr.is_constant

Semantics are XPath 1.0 with the ODK XForms extensions
(https://getodk.github.io/xforms-spec/), matching what ODK Collect
(JavaRosa), Enketo and ODK Web Forms compute; where those clients differ, the
choice and its reason are noted next to the function concerned.
"""

from forms.xpath.errors import XPathError, XPathEvalError, XPathSyntaxError
from forms.xpath.expr import Env, Expr, parse, shared_context
from forms.xpath.registry import Context
from forms.xpath.signatures import SUPPORTED_FUNCTIONS
from forms.xpath.values import to_boolean, to_number, to_string

__all__ = [
    "SUPPORTED_FUNCTIONS",
    "Context",
    "Env",
    "Expr",
    "XPathError",
    "XPathEvalError",
    "XPathSyntaxError",
    "parse",
    "shared_context",
    "to_boolean",
    "to_number",
    "to_string",
]
