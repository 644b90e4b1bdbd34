"""The problem catalogue: every error giupho can answer with, numbered like ODK Central's.

A code is `<HTTP status>.<n>`; the number after the dot is stable once
published, so clients and tests may rely on it. Each entry has an English and
a Vietnamese message template. Messages are written for the person who will
read them (a cadre in Collect, a form author, an operator) and say what to do.

Raise `Problem("404.2", form_id=..., version=...)` anywhere below the HTTP
layer; each protocol renders it in its own shape (JSON for the API, the
OpenRosa XML envelope for Collect, an HTML page for the browser).
"""

from __future__ import annotations

import string
from dataclasses import dataclass
from typing import Any


@dataclass(frozen=True)
class ProblemType:
    code: str
    status: int
    message: str
    message_vi: str


_ENTRIES = (
    ProblemType(
        "400.1", 400, "The request could not be read: {reason}", "Không đọc được yêu cầu: {reason}"
    ),
    ProblemType(
        "400.2", 400, "The required field '{field}' is missing.", "Thiếu trường bắt buộc '{field}'."
    ),
    ProblemType(
        "400.3",
        400,
        "The value of '{field}' is not valid: {reason}",
        "Giá trị của '{field}' không hợp lệ: {reason}",
    ),
    ProblemType(
        "400.4",
        400,
        "The form cannot be used: {count} problem(s) found. Fix them in the file and "
        "upload it again.",
        "Không dùng được biểu mẫu: có {count} lỗi. Hãy sửa trong tệp rồi tải lên lại.",
    ),
    ProblemType(
        "400.5",
        400,
        "'{filename}' is not a form file. Upload an XLSForm (.xlsx, .xls, .csv, .md) or "
        "an XForm (.xml).",
        "'{filename}' không phải tệp biểu mẫu. Hãy tải lên XLSForm (.xlsx, .xls, .csv, "
        ".md) hoặc XForm (.xml).",
    ),
    ProblemType(
        "400.6",
        400,
        "The submission could not be read: {reason}",
        "Không đọc được bản gửi: {reason}",
    ),
    ProblemType(
        "400.7",
        400,
        "The submission could not be read: {reason} It was kept for an administrator to "
        "look at; do not send it again.",
        "Không đọc được bản gửi: {reason_vi} Dữ liệu đã được giữ lại để quản trị viên xem "
        "xét, đừng gửi lại.",
    ),
    ProblemType(
        "400.8",
        400,
        "This address speaks OpenRosa 1.0: the request must carry the header "
        "'X-OpenRosa-Version: 1.0'. Use ODK Collect, Enketo or another OpenRosa client.",
        "Địa chỉ này dùng giao thức OpenRosa 1.0: yêu cầu phải có tiêu đề "
        "'X-OpenRosa-Version: 1.0'. Hãy dùng ODK Collect, Enketo hoặc ứng dụng OpenRosa khác.",
    ),
    ProblemType(
        "400.9",
        400,
        "The submission was refused: {reason}",
        "Bản gửi bị từ chối: {reason_vi}",
    ),
    ProblemType(
        "401.1",
        401,
        "Sign in required: give your username and password or a device token.",
        "Cần đăng nhập: hãy nhập tên đăng nhập và mật khẩu hoặc mã thiết bị.",
    ),
    ProblemType(
        "401.2",
        401,
        "This device's access has been revoked. Ask your coordinator for a new link.",
        "Thiết bị này đã bị thu hồi quyền truy cập. Hãy xin điều phối viên đường dẫn mới.",
    ),
    ProblemType(
        "403.1",
        403,
        "Your account is not allowed to do this.",
        "Tài khoản của bạn không được phép thực hiện thao tác này.",
    ),
    ProblemType(
        "403.2",
        403,
        "{what} is outside your area of work.",
        "{what} nằm ngoài địa bàn phụ trách của bạn.",
    ),
    ProblemType(
        "403.3",
        403,
        "This record is for {what}, which is outside your area of work. Your data was kept "
        "for the commune to review; do not send it again.",
        "Bản ghi này thuộc {what}, nằm ngoài địa bàn phụ trách của bạn. Dữ liệu đã được giữ "
        "lại để xã xem xét, đừng gửi lại.",
    ),
    ProblemType(
        "403.4",
        403,
        "Form '{form_id}' is not available to your account. Your data was kept for review; "
        "do not send it again.",
        "Tài khoản của bạn không được dùng biểu mẫu '{form_id}'. Dữ liệu đã được giữ lại để "
        "xem xét, đừng gửi lại.",
    ),
    ProblemType(
        "404.1",
        404,
        "Nothing was found at this address.",
        "Không tìm thấy nội dung tại địa chỉ này.",
    ),
    ProblemType(
        "404.2",
        404,
        "Form '{form_id}' version '{version}' was not found.",
        "Không tìm thấy biểu mẫu '{form_id}' phiên bản '{version}'.",
    ),
    ProblemType(
        "404.3", 404, "Form '{form_id}' was not found.", "Không tìm thấy biểu mẫu '{form_id}'."
    ),
    ProblemType(
        "404.4",
        404,
        "The record this edit replaces ({deprecated_id}) is not on the server. Your data "
        "was kept for review; there is no need to send it again.",
        "Máy chủ không có bản ghi mà bản sửa này thay thế ({deprecated_id}). Dữ liệu đã "
        "được giữ lại để xem xét, không cần gửi lại.",
    ),
    ProblemType(
        "404.5",
        404,
        "The server does not have form '{form_id}' version '{version}'. Your data was "
        "kept and will be processed when that form version is loaded.",
        "Máy chủ chưa có biểu mẫu '{form_id}' phiên bản '{version}'. Dữ liệu đã được giữ "
        "lại và sẽ được xử lý khi phiên bản biểu mẫu này được nạp.",
    ),
    ProblemType(
        "404.6",
        404,
        "The admin unit '{unit}' was not found.",
        "Không tìm thấy đơn vị hành chính '{unit}'.",
    ),
    ProblemType(
        "405.1",
        405,
        "This address does not accept the {method} method.",
        "Địa chỉ này không nhận phương thức {method}.",
    ),
    ProblemType(
        "409.1",
        409,
        "Form '{form_id}' version '{version}' already exists with different content. "
        "Change the version in the settings sheet and upload again.",
        "Biểu mẫu '{form_id}' phiên bản '{version}' đã có với nội dung khác. Hãy đổi "
        "'version' trong trang settings rồi tải lên lại.",
    ),
    ProblemType(
        "409.2",
        409,
        "Form '{form_id}' version '{version}' is {state}: it cannot be {action}.",
        "Biểu mẫu '{form_id}' phiên bản '{version}' đang ở trạng thái {state_vi}: không "
        "thể {action_vi}.",
    ),
    ProblemType(
        "409.3",
        409,
        "A different submission with the same ID ({instance_id}) was already received. "
        "Your data was kept for review; do not send it again.",
        "Máy chủ đã nhận một bản gửi khác có cùng mã ({instance_id}). Dữ liệu của bạn đã "
        "được giữ lại để xem xét, đừng gửi lại.",
    ),
    ProblemType(
        "409.4",
        409,
        "This edit replaces a version of the record ({deprecated_id}) that was already "
        "edited. Your data was kept for review.",
        "Bản sửa này thay thế một phiên bản ({deprecated_id}) đã được sửa trước đó. Dữ "
        "liệu của bạn đã được giữ lại để xem xét.",
    ),
    ProblemType("409.5", 409, "{what} '{name}' already exists.", "{what_vi} '{name}' đã tồn tại."),
    ProblemType(
        "409.10",
        409,
        "{what} is {state}, so it cannot be {action}. Reload it to see its current state.",
        "{what_vi} đang ở trạng thái {state_vi} nên không thể {action_vi}. Hãy tải lại để xem "
        "trạng thái hiện tại.",
    ),
    ProblemType(
        "413.1",
        413,
        "The request is too large: the limit is {limit} bytes.",
        "Yêu cầu quá lớn: giới hạn là {limit} byte.",
    ),
    ProblemType(
        "413.2",
        413,
        "A value in the submission is too large: {reason} Your data was kept for review; "
        "do not send it again.",
        "Một giá trị trong bản gửi quá lớn: {reason_vi} Dữ liệu đã được giữ lại để xem xét, "
        "đừng gửi lại.",
    ),
    ProblemType(
        "413.3",
        413,
        "Too many items in one batch: {count} sent, the limit is {limit}. Send them in "
        "smaller batches.",
        "Quá nhiều mục trong một lần gửi: đã gửi {count}, giới hạn là {limit}. Hãy chia "
        "thành các lần gửi nhỏ hơn.",
    ),
    ProblemType(
        "415.1",
        415,
        "Content type '{content_type}' is not accepted here.",
        "Không chấp nhận kiểu nội dung '{content_type}' tại đây.",
    ),
    ProblemType(
        "429.1",
        429,
        "Too many requests. Wait a moment and try again.",
        "Quá nhiều yêu cầu. Hãy chờ một lát rồi thử lại.",
    ),
    ProblemType(
        "500.1",
        500,
        "Something went wrong on the server. It was logged; please try again later.",
        "Máy chủ gặp lỗi. Lỗi đã được ghi lại; hãy thử lại sau.",
    ),
    ProblemType(
        "503.1",
        503,
        "The server cannot reach its database right now. Please try again later.",
        "Máy chủ tạm thời không kết nối được cơ sở dữ liệu. Hãy thử lại sau.",
    ),
)

CATALOGUE: dict[str, ProblemType] = {entry.code: entry for entry in _ENTRIES}

#: The problem to answer with when a bare HTTP status is all there is (routing errors).
BY_STATUS: dict[int, str] = {
    400: "400.1",
    401: "401.1",
    403: "403.1",
    404: "404.1",
    405: "405.1",
    413: "413.1",
    415: "415.1",
    429: "429.1",
    500: "500.1",
    503: "503.1",
}


def placeholders(template: str) -> set[str]:
    """The `{names}` a message template needs."""
    return {name for _, name, _, _ in string.Formatter().parse(template) if name}


class Problem(Exception):
    """An error from the catalogue, with the values its message needs and optional details.

    `details` is machine-readable context (a list of form problems, the
    conflicting ids) and is sent to the client as is: never put secrets in it.
    """

    def __init__(self, code: str, details: Any = None, **params: Any) -> None:
        if code not in CATALOGUE:
            raise KeyError(f"unknown problem code {code!r}")
        self.type = CATALOGUE[code]
        self.params = params
        self.details = details
        super().__init__(f"[{code}] {self.message('en')}")

    @property
    def code(self) -> str:
        return self.type.code

    @property
    def status(self) -> int:
        return self.type.status

    def message(self, lang: str = "en") -> str:
        """The message in `lang` ("vi" or "en")."""
        template = self.type.message_vi if lang == "vi" else self.type.message
        return template.format(**self.params)

    def to_dict(self, lang: str = "en") -> dict[str, Any]:
        """The one JSON error shape: code, message, details."""
        return {"code": self.code, "message": self.message(lang), "details": self.details}
