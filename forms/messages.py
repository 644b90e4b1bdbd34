"""Messages for submission problems and validation issues, in English and Vietnamese.

Two small catalogues keyed by a stable code. Field officers read these (in
Collect's error dialog, on the review site), so each says what is wrong and,
where there is something to do, what to do. Placeholders are filled with
`str.format_map`; a placeholder without a value is left visible rather than
raising, so a message never hides the problem it reports.
"""

from __future__ import annotations

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

ISSUES: dict[str, tuple[str, str]] = {
    "required": (
        "This question requires an answer.",
        "Câu hỏi này bắt buộc phải trả lời.",
    ),
    "constraint": (
        "The answer does not meet the rule of this question ({rule}).",
        "Câu trả lời không đáp ứng điều kiện của câu hỏi này ({rule}).",
    ),
    "type_int": (
        "'{value}' is not a whole number between -2,147,483,648 and 2,147,483,647.",
        "'{value}' không phải là số nguyên trong khoảng -2.147.483.648 đến 2.147.483.647.",
    ),
    "type_decimal": (
        "'{value}' is not a number.",
        "'{value}' không phải là một số.",
    ),
    "type_date": (
        "'{value}' is not a date (expected YYYY-MM-DD).",
        "'{value}' không phải là ngày hợp lệ (định dạng YYYY-MM-DD).",
    ),
    "type_time": (
        "'{value}' is not a time (expected HH:MM:SS, optionally with a time zone).",
        "'{value}' không phải là giờ hợp lệ (định dạng HH:MM:SS, có thể kèm múi giờ).",
    ),
    "type_dateTime": (
        "'{value}' is not a date and time (expected YYYY-MM-DDTHH:MM:SS).",
        "'{value}' không phải là ngày giờ hợp lệ (định dạng YYYY-MM-DDTHH:MM:SS).",
    ),
    "type_geopoint": (
        "'{value}' is not a location: expected 'latitude longitude [altitude [accuracy]]'"
        " with latitude between -90 and 90 and longitude between -180 and 180.",
        "'{value}' không phải là vị trí hợp lệ: cần 'vĩ độ kinh độ [độ cao [độ chính xác]]',"
        " vĩ độ từ -90 đến 90 và kinh độ từ -180 đến 180.",
    ),
    "type_geotrace": (
        "'{value}' is not a line: expected points 'latitude longitude' separated by ';'.",
        "'{value}' không phải là đường hợp lệ: cần các điểm 'vĩ độ kinh độ' cách nhau bởi ';'.",
    ),
    "type_boolean": (
        "'{value}' is not true or false.",
        "'{value}' không phải là đúng hoặc sai (true/false).",
    ),
    "choice": (
        "'{value}' is not one of the choices of this question.",
        "'{value}' không thuộc các lựa chọn của câu hỏi này.",
    ),
    "choice_filtered": (
        "'{value}' is not among the choices offered for the earlier answers.",
        "'{value}' không nằm trong các lựa chọn được phép theo các câu trả lời trước.",
    ),
    "choice_single": (
        "Only one choice is allowed here, but '{value}' has several.",
        "Câu hỏi này chỉ được chọn một, nhưng '{value}' có nhiều lựa chọn.",
    ),
    "repeat_count": (
        "The form expects {expected} entries here but the submission has {actual}.",
        "Biểu mẫu cần {expected} mục ở đây nhưng bản gửi có {actual} mục.",
    ),
    "not_relevant": (
        "This question does not apply to this household; its answer is ignored.",
        "Câu hỏi này không áp dụng cho hộ này; câu trả lời được bỏ qua.",
    ),
    "unknown_field": (
        "'{name}' is not part of this form version; its value is ignored.",
        "'{name}' không có trong phiên bản biểu mẫu này; giá trị được bỏ qua.",
    ),
    "calculation_error": (
        "The form could not compute this value: {detail}",
        "Biểu mẫu không tính được giá trị này: {detail}",
    ),
    "expression_error": (
        "The form's rule for this question could not be evaluated: {detail}",
        "Không đánh giá được điều kiện của câu hỏi này trong biểu mẫu: {detail}",
    ),
    "entity_invalid": (
        "The household record block (meta/entity) is invalid: {detail}",
        "Khối thông tin hộ (meta/entity) không hợp lệ: {detail}",
    ),
    "form_mismatch_root": (
        "The submission's root element is '{value}' but form '{form_id}' expects '{expected}':"
        " it was not filled in with this form.",
        "Phần tử gốc của bản gửi là '{value}' nhưng biểu mẫu '{form_id}' cần '{expected}':"
        " bản gửi này không được điền bằng biểu mẫu này.",
    ),
    "form_mismatch_id": (
        "The submission is for form '{value}', not '{form_id}'.",
        "Bản gửi thuộc biểu mẫu '{value}', không phải '{form_id}'.",
    ),
}

SUBMISSIONS: dict[str, tuple[str, str]] = {
    "submission_too_large": (
        "The submission is larger than {limit_mb} MB. Send photos as attachments, not inside"
        " the form.",
        "Bản gửi lớn hơn {limit_mb} MB. Hãy gửi ảnh dưới dạng tệp đính kèm, không đặt trong"
        " biểu mẫu.",
    ),
    "submission_empty": (
        "The submission is empty. Send the form again from the app.",
        "Bản gửi trống. Hãy gửi lại biểu mẫu từ ứng dụng.",
    ),
    "xml_malformed": (
        "The submission is not valid XML ({detail}). Send the form again from the app.",
        "Bản gửi không phải XML hợp lệ ({detail}). Hãy gửi lại biểu mẫu từ ứng dụng.",
    ),
    "xml_doctype_forbidden": (
        "The submission contains a document type declaration (DOCTYPE) or entities,"
        " which are not accepted.",
        "Bản gửi chứa khai báo kiểu tài liệu (DOCTYPE) hoặc thực thể (entity),"
        " điều này không được chấp nhận.",
    ),
    "xml_too_deep": (
        "The submission nests elements more than {limit} levels deep.",
        "Bản gửi lồng các phần tử sâu hơn {limit} cấp.",
    ),
    "field_too_large": (
        "The answer '{field}' is larger than {limit_kb} KB.",
        "Câu trả lời '{field}' lớn hơn {limit_kb} KB.",
    ),
    "answers_invalid": (
        "The answers are not in the expected shape: {detail}",
        "Dữ liệu trả lời không đúng cấu trúc: {detail}",
    ),
}


class _Keep(dict):
    """format_map mapping that leaves unknown placeholders as written."""

    def __missing__(self, key: str) -> str:
        return "{" + key + "}"


def _format(pair: tuple[str, str], params: dict) -> tuple[str, str]:
    values = _Keep(params)
    if "limit" in params:
        values.setdefault("limit_mb", f"{params['limit'] / (1024 * 1024):g}")
        values.setdefault("limit_kb", f"{params['limit'] // 1024}")
    return pair[0].format_map(values), pair[1].format_map(values)


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
