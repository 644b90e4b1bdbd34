"""The forms error catalogue: problems a form author or a submitter can act on.

Every problem has a stable `code` from `CATALOGUE`, an English and a
Vietnamese message, and where it applies: the XLSForm sheet, row and column,
or the field path of the XForm. Messages say what is wrong *and* how to fix it.
"""

from __future__ import annotations

from dataclasses import asdict, dataclass


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
    """A catalogue entry: message and fix templates (str.format) in English and Vietnamese."""

    message: str
    message_vi: str
    fix: str = ""
    fix_vi: str = ""


# Form problems found when a form is loaded. Codes are stable: the API, the CLI and
# the upload page show them, and form authors search for them.
CATALOGUE: dict[str, ProblemKind] = {
    "xlsform.unreadable": ProblemKind(
        "The file could not be read as an XLSForm: {detail}",
        "Không đọc được tệp dưới dạng XLSForm: {detail}",
        "Save the form as .xlsx (or .xls, .csv, .md) with a 'survey' sheet and try again.",
        "Lưu biểu mẫu dạng .xlsx (hoặc .xls, .csv, .md) có trang 'survey' rồi thử lại.",
    ),
    "xlsform.invalid": ProblemKind(
        "{detail}",
        "Biểu mẫu XLSForm không hợp lệ: {detail}",
        "Correct the cell pyxform names and upload the form again.",
        "Sửa ô mà pyxform chỉ ra rồi tải biểu mẫu lên lại.",
    ),
    "xform.too_large": ProblemKind(
        "The XForm is {size} bytes; the limit is {limit} bytes.",
        "XForm có {size} byte, vượt giới hạn {limit} byte.",
        "Move large choice lists to a CSV attachment (select_one_from_file).",
        "Chuyển danh sách lựa chọn lớn sang tệp CSV đính kèm (select_one_from_file).",
    ),
    "xform.unreadable": ProblemKind(
        "The XForm is not well-formed XML: {detail}",
        "XForm không phải XML hợp lệ: {detail}",
        "Export the XForm again from your form tool, or upload the XLSForm instead.",
        "Xuất lại XForm từ công cụ soạn biểu mẫu, hoặc tải lên tệp XLSForm.",
    ),
    "xform.forbidden": ProblemKind(
        "The XForm contains {what}, which giupho does not accept.",
        "XForm chứa {what}, giupho không chấp nhận.",
        "Remove the DOCTYPE and entity declarations: ODK forms never need them.",
        "Xoá khai báo DOCTYPE và entity: biểu mẫu ODK không cần chúng.",
    ),
    "xform.structure": ProblemKind(
        "The XForm is missing {what}.",
        "XForm thiếu {what}.",
        "Check that the form has h:head/model with a primary instance whose root has an id.",
        "Kiểm tra biểu mẫu có h:head/model với instance chính và phần tử gốc có thuộc tính id.",
    ),
    "expr.syntax": ProblemKind(
        "The expression {expr!r} cannot be read at character {position}: {detail}",
        "Không đọc được biểu thức {expr!r} tại ký tự {position}: {detail_vi}",
        "Check brackets, quotes and operators near {near!r}.",
        "Kiểm tra dấu ngoặc, dấu nháy và toán tử gần {near!r}.",
    ),
    "expr.unknown_reference": ProblemKind(
        "The expression {expr!r} refers to {ref}, which is not a field of this form.",
        "Biểu thức {expr!r} tham chiếu tới {ref}, không phải trường nào của biểu mẫu.",
        "Rename the reference to an existing field, e.g. {suggestion}.",
        "Đổi tham chiếu thành một trường có trong biểu mẫu, ví dụ {suggestion}.",
    ),
    "expr.unsupported_function": ProblemKind(
        "The expression {expr!r} calls {function}(), which giupho cannot evaluate.",
        "Biểu thức {expr!r} gọi hàm {function}(), giupho không tính được hàm này.",
        "Replace {function}() with a function of the ODK XForms spec{hint}.",
        "Thay {function}() bằng một hàm trong đặc tả ODK XForms{hint_vi}.",
    ),
    "expr.bad_regex": ProblemKind(
        "The expression {expr!r} uses a regular expression that does not compile: {detail}.",
        "Biểu thức {expr!r} dùng một biểu thức chính quy không hợp lệ: {detail}.",
        "Correct the pattern in regex(), e.g. '^[0-9]{{10}}$' for ten digits.",
        "Sửa mẫu trong regex(), ví dụ '^[0-9]{{10}}$' cho mười chữ số.",
    ),
    "expr.cycle": ProblemKind(
        "The calculations depend on each other in a cycle: {cycle}.",
        "Các phép tính phụ thuộc vòng tròn vào nhau: {cycle}.",
        "Break the cycle: one of these calculations must not use the others.",
        "Phá vòng lặp: một trong các phép tính này không được dùng các phép tính còn lại.",
    ),
    "field.duplicate": ProblemKind(
        "The primary instance has two nodes at {field}.",
        "Instance chính có hai nút cùng đường dẫn {field}.",
        "Rename one of them, or declare the node as a repeat in the body.",
        "Đổi tên một nút, hoặc khai báo nút đó là nhóm lặp (repeat) trong phần body.",
    ),
    "bind.duplicate": ProblemKind(
        "Two binds target {field}.",
        "Có hai bind cùng trỏ tới {field}.",
        "Merge the two <bind> elements into one.",
        "Gộp hai phần tử <bind> thành một.",
    ),
    "bind.unknown_node": ProblemKind(
        "A {element} targets {field}, which is not in the primary instance.",
        "Một {element} trỏ tới {field}, không có trong instance chính.",
        "Add the node to the primary instance or correct the path.",
        "Thêm nút vào instance chính hoặc sửa đường dẫn.",
    ),
    "entities.version": ProblemKind(
        "The form uses entities spec version {version}; giupho understands up to {supported}.",
        "Biểu mẫu dùng đặc tả entities phiên bản {version}; giupho chỉ hỗ trợ tới {supported}.",
        "Convert the form with a pyxform release that emits entities {supported} or older.",
        "Chuyển đổi biểu mẫu bằng bản pyxform sinh entities {supported} hoặc cũ hơn.",
    ),
    "entities.declaration": ProblemKind(
        "The entity declaration at {field} is incomplete: {detail}",
        "Khai báo thực thể tại {field} chưa đầy đủ: {detail}",
        "Give the entities sheet a list_name and a label (or entity_id for updates).",
        "Điền list_name và label (hoặc entity_id khi cập nhật) trong trang entities.",
    ),
    "language.unknown": ProblemKind(
        "The language {language!r} is not one of the form's languages ({languages}).",
        "Ngôn ngữ {language!r} không có trong biểu mẫu ({languages}).",
        "Choose one of the form's languages, e.g. {suggestion!r}.",
        "Chọn một ngôn ngữ của biểu mẫu, ví dụ {suggestion!r}.",
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
    """A `FormProblem` for catalogue `code`, its templates filled with `params`."""
    kind = CATALOGUE[code]
    values = {"sheet": sheet, "row": row, "column": column, "field": field, **params}
    return FormProblem(
        code=code,
        message=kind.message.format(**values),
        message_vi=kind.message_vi.format(**values),
        sheet=sheet,
        row=row,
        column=column,
        field=field,
        fix=kind.fix.format(**values),
        fix_vi=kind.fix_vi.format(**values),
    )
