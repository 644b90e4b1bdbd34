"""Messages for submission problems and validation issues, in English and Vietnamese.

Two small catalogues keyed by a stable code. Field officers read these (in
Collect's error dialog, on the review site), so each says what is wrong and,
where there is something to do, what to do. The texts are English message ids
with `%(name)s` placeholders; their Vietnamese is in the `giupho_forms` gettext
catalogue (`forms.i18n`). A placeholder without a value is left visible (as
`{name}`) rather than raising, so a message never hides the problem it reports.
"""

from __future__ import annotations

from forms.i18n import N_, render

# Severity of each validation issue code: errors mark a submission `has_issues`
# (sync-contract R6); warnings and infos are shown but change nothing.
ISSUE_SEVERITY: dict[str, str] = {
    "required": "error",
    "constraint": "error",
    "type": "error",
    "choice": "error",
    "repeat_count": "error",
    "calculation_error": "error",
    "expression_error": "error",
    "entity_invalid": "error",
    "form_mismatch": "error",
    "unknown_field": "warning",
    "not_relevant": "info",
}

ISSUES: dict[str, str] = {
    "required": N_("This question requires an answer."),
    "constraint": N_("The answer does not meet the rule of this question (%(rule)s)."),
    "type_int": N_("'%(value)s' is not a whole number between -2,147,483,648 and 2,147,483,647."),
    "type_decimal": N_("'%(value)s' is not a number."),
    "type_date": N_("'%(value)s' is not a date (expected YYYY-MM-DD)."),
    "type_time": N_("'%(value)s' is not a time (expected HH:MM:SS, optionally with a time zone)."),
    "type_dateTime": N_("'%(value)s' is not a date and time (expected YYYY-MM-DDTHH:MM:SS)."),
    "type_geopoint": N_(
        "'%(value)s' is not a location: expected 'latitude longitude [altitude [accuracy]]' with "
        "latitude between -90 and 90 and longitude between -180 and 180."
    ),
    "type_geotrace": N_(
        "'%(value)s' is not a line: expected points 'latitude longitude' separated by ';'."
    ),
    "type_boolean": N_("'%(value)s' is not true or false."),
    "choice": N_("'%(value)s' is not one of the choices of this question."),
    "choice_filtered": N_("'%(value)s' is not among the choices offered for the earlier answers."),
    "choice_single": N_("Only one choice is allowed here, but '%(value)s' has several."),
    "repeat_count": N_(
        "The form expects %(expected)s entries here but the submission has %(actual)s."
    ),
    "not_relevant": N_("This question does not apply to this household; its answer is ignored."),
    "unknown_field": N_("'%(name)s' is not part of this form version; its value is ignored."),
    "calculation_error": N_("The form could not compute this value: %(detail)s"),
    "expression_error": N_("The form's rule for this question could not be evaluated: %(detail)s"),
    "entity_invalid": N_("The household record block (meta/entity) is invalid: %(detail)s"),
    "form_mismatch_root": N_(
        "The submission's root element is '%(value)s' but form '%(form_id)s' expects "
        "'%(expected)s': it was not filled in with this form."
    ),
    "form_mismatch_id": N_("The submission is for form '%(value)s', not '%(form_id)s'."),
}

SUBMISSIONS: dict[str, str] = {
    "submission_too_large": N_(
        "The submission is larger than %(limit_mb)s MB. Send photos as attachments, not inside the "
        "form."
    ),
    "submission_empty": N_("The submission is empty. Send the form again from the app."),
    "xml_malformed": N_(
        "The submission is not valid XML (%(detail)s). Send the form again from the app."
    ),
    "xml_doctype_forbidden": N_(
        "The submission contains a document type declaration (DOCTYPE) or entities, which are not "
        "accepted."
    ),
    "too_many_elements": N_("The submission has more than %(limit)s elements."),
    "xml_too_deep": N_("The submission nests elements more than %(limit)s levels deep."),
    "field_too_large": N_("The answer '%(field)s' is larger than %(limit_kb)s KB."),
    "answers_invalid": N_("The answers are not in the expected shape: %(detail)s"),
}


def _format(message: str, params: dict) -> tuple[str, str]:
    if "limit" in params:
        params = {
            "limit_mb": f"{params['limit'] / (1024 * 1024):g}",
            "limit_kb": f"{params['limit'] // 1024}",
            **params,
        }
    return render(message, params)


def issue_code(key: str) -> str:
    """The issue code of a message key: `type_int` -> `type`, `choice_filtered` -> `choice`."""
    if key in ISSUE_SEVERITY:
        return key
    return next(code for code in ISSUE_SEVERITY if key.startswith(code + "_"))


def issue_message(key: str, **params) -> tuple[str, str]:
    """(English, Vietnamese) message for a validation issue key (`type_int`, `choice`, ...)."""
    return _format(ISSUES[key], params)


def submission_message(code: str, **params) -> tuple[str, str]:
    """(English, Vietnamese) message for a `SubmissionError` code."""
    return _format(SUBMISSIONS[code], params)
