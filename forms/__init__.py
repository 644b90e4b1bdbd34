"""giupho forms engine: XLSForm/XForm in, validated answers out.

A pure package: it imports neither Flask nor SQLAlchemy, so the server, the
sync client and the command line share it.
"""

from forms.errors import FormError, FormProblem

__all__ = ["FormError", "FormModel", "FormProblem", "load_form"]

# Submissions and validation, also imported on first use (name -> module).
_SUBMISSION_API = {
    "EntityRef": "forms.instance",
    "Submission": "forms.instance",
    "parse_submission": "forms.instance",
    "to_xml": "forms.instance",
    "to_answers": "forms.instance",
    "from_answers": "forms.instance",
    "answers_to_node": "forms.instance",
    "canonical_answers": "forms.canonical",
    "answers_hash": "forms.canonical",
    "Issue": "forms.validation",
    "ValidationResult": "forms.validation",
    "FormValidator": "forms.validation",
    "validate": "forms.validation",
    "compute": "forms.validation",
}
__all__ += list(_SUBMISSION_API)


def __getattr__(name: str):
    # Imported on first use: `import forms.tree` (or forms.xpath) must not pull in
    # pyxform and the whole loading pipeline, nor risk a circular import.
    if name == "load_form":
        from forms.load import load_form

        return load_form
    if name == "FormModel":
        from forms.model import FormModel

        return FormModel
    if name in _SUBMISSION_API:
        from importlib import import_module

        return getattr(import_module(_SUBMISSION_API[name]), name)
    raise AttributeError(f"module 'forms' has no attribute {name!r}")
