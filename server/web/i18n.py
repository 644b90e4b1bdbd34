"""The site's languages: English message ids, translated to Vietnamese from a Python dict.

Why a dict and not gettext catalogues: the site has a few hundred strings,
and compiled .mo files would need a build step before `make run` and
`make test`; a dict needs none, and `tests/integration/web/test_i18n.py`
checks that every string the templates and views pass to `_` has its
Vietnamese text, so a missing translation fails the tests instead of
showing English to an official. Flask-Babel still formats dates, times and
numbers for the chosen language and shows times in the server's time zone.

The language is the one chosen with the switch (kept in the session), else
`DEFAULT_LANGUAGE` (Vietnamese).
"""

from __future__ import annotations

import datetime as dt

from flask import current_app, session
from flask_babel import format_datetime, format_decimal

LANGUAGES = ("vi", "en")
SESSION_KEY = "lang"


def language() -> str:
    chosen = session.get(SESSION_KEY)
    if chosen in LANGUAGES:
        return chosen
    default = current_app.config.get("DEFAULT_LANGUAGE", "vi")
    return default if default in LANGUAGES else "vi"


def _(text: str, **params) -> str:
    """`text` in the current language, with `{params}` filled in. A dotted id of a stored
    value ("case.merged", "household.active") has its English in `EN`."""
    text = VI.get(text, text) if language() == "vi" else EN.get(text, text)
    return text.format(**params) if params else text


def format_time(value: dt.datetime | None) -> str:
    if value is None:
        return ""
    return format_datetime(value, "dd/MM/yyyy HH:mm")


def format_number(value) -> str:
    return format_decimal(value) if value is not None else ""


def pick(texts: dict, fallback: str = "") -> str:
    """From {"vi": ..., "en": ...}, the text of the current language."""
    return texts.get(language()) or texts.get("vi") or fallback


def template_globals() -> dict:
    return {
        "_": _,
        "lang": language(),
        "languages": LANGUAGES,
        "format_time": format_time,
        "format_number": format_number,
        "pick": pick,
    }


VI: dict[str, str] = {
    # household properties the forms calculate (no label of their own)
    "Number of deprivations": "Số chỉ số thiếu hụt",
    "Poverty classification": "Phân loại hộ",
    "Poverty standard": "Chuẩn nghèo áp dụng",
    "Ethnic minority household": "Hộ dân tộc thiểu số",
    # layout and sign-in
    "giupho review": "giupho – duyệt dữ liệu",
    "Skip to content": "Chuyển đến nội dung",
    "Dashboard": "Tổng quan",
    "Review queue": "Hàng chờ duyệt",
    "Quarantine": "Dữ liệu bị giữ lại",
    "Sign in": "Đăng nhập",
    "Sign out": "Đăng xuất",
    "Signed in as {name}": "Đã đăng nhập: {name}",
    "User name": "Tên đăng nhập",
    "Password": "Mật khẩu",
    "Sign in to review what cadres collected.": "Đăng nhập để duyệt dữ liệu cán bộ đã thu thập.",
    "Enter your user name and password.": "Hãy nhập tên đăng nhập và mật khẩu.",
    "Wrong user name or password.": "Sai tên đăng nhập hoặc mật khẩu.",
    "Too many failed attempts. Try again after {time}.": (
        "Đăng nhập sai quá nhiều lần. Hãy thử lại sau {time}."
    ),
    "Language": "Ngôn ngữ",
    "Tiếng Việt": "Tiếng Việt",
    "English": "English",
    # errors
    "Something went wrong": "Đã xảy ra lỗi",
    "The form expired or did not come from this site. Reload the page and try again.": (
        "Biểu mẫu đã hết hạn hoặc không đến từ trang này. Hãy tải lại trang rồi thử lại."
    ),
    "Back to the dashboard": "Về trang tổng quan",
    "Not allowed": "Không được phép",
    "Not found": "Không tìm thấy",
    # dashboard
    "Commune": "Xã",
    "Show": "Xem",
    "Waiting for a decision": "Đang chờ quyết định",
    "Submissions received": "Bản gửi mới nhận",
    "Submissions with issues": "Bản gửi có vấn đề",
    "Returned, waiting for the cadre": "Đã trả lại, chờ cán bộ sửa",
    "Kept in quarantine": "Dữ liệu bị giữ lại",
    "Household updates held for merging": "Cập nhật hộ đang chờ hợp nhất",
    "Households with conflicting edits": "Hộ có chỉnh sửa mâu thuẫn",
    "Possible duplicate households": "Hộ có thể bị trùng",
    "Households by poverty status": "Hộ theo phân loại nghèo",
    "Status": "Phân loại",
    "Households": "Số hộ",
    "Total": "Tổng",
    "Visits this month by cadre": "Lượt thăm hộ trong tháng theo cán bộ",
    "Since {date}": "Từ ngày {date}",
    "Cadre": "Cán bộ",
    "Visits": "Lượt thăm",
    "Registrations": "Đăng ký hộ mới",
    "Other forms": "Biểu mẫu khác",
    "No submissions this month yet.": "Chưa có bản gửi nào trong tháng này.",
    # queue
    "State": "Trạng thái",
    "Village": "Thôn, bản",
    "Form": "Biểu mẫu",
    "From": "Từ ngày",
    "To": "Đến ngày",
    "All": "Tất cả",
    "Filter": "Lọc",
    "Clear": "Bỏ lọc",
    "Received": "Thời điểm nhận",
    "Record": "Bản ghi",
    "Issues": "Vấn đề",
    "{n} submissions": "{n} bản gửi",
    "Page {page} of {pages}": "Trang {page}/{pages}",
    "Previous": "Trang trước",
    "Next": "Trang sau",
    "Nothing matches these filters.": "Không có bản gửi nào khớp với bộ lọc.",
    "received": "mới nhận",
    "has_issues": "có vấn đề",
    "approved": "đã duyệt",
    "returned": "đã trả lại",
    "rejected": "đã từ chối",
    # submission page
    "Submission": "Bản gửi",
    "Sent by": "Người gửi",
    "Device time": "Giờ trên máy",
    "Version of": "Phiên bản của",
    "This version was replaced by a correction.": "Phiên bản này đã được thay bằng bản sửa.",
    "Open the current version": "Mở phiên bản hiện tại",
    "Decision": "Quyết định",
    "Approve": "Duyệt",
    "Mark has issues": "Đánh dấu có vấn đề",
    "Return to the cadre": "Trả lại cán bộ",
    "Reject": "Từ chối",
    "Comment": "Nhận xét",
    "Comment for the cadre (required to return)": "Nhận xét cho cán bộ (bắt buộc khi trả lại)",
    "Reject this submission? It stays stored but leaves the reports.": (
        "Từ chối bản gửi này? Dữ liệu vẫn được lưu nhưng không đưa vào báo cáo."
    ),
    "Answers": "Câu trả lời",
    "Question": "Câu hỏi",
    "Answer": "Trả lời",
    "no answer": "không trả lời",
    "Correct": "Sửa",
    "New value": "Giá trị mới",
    "Save the correction": "Lưu bản sửa",
    "A correction makes a new version of the record; the old one is kept.": (
        "Mỗi lần sửa tạo một phiên bản mới của bản ghi; bản cũ vẫn được giữ."
    ),
    "Validation issues": "Lỗi kiểm tra dữ liệu",
    "Photos and files": "Ảnh và tệp",
    "Location": "Vị trí",
    "accuracy {m} m": "sai số {m} m",
    "Open on a map": "Xem trên bản đồ",
    "History": "Lịch sử",
    "When": "Thời điểm",
    "Who": "Ai",
    "What": "Việc",
    "server": "máy chủ",
    "Item {n}": "Mục {n}",
    "Decision saved: {state}.": "Đã lưu quyết định: {state}.",
    "Correction saved as a new version.": "Đã lưu bản sửa thành phiên bản mới.",
    "submission.receive": "nhận bản gửi",
    "submission.approve": "duyệt",
    "submission.mark_issues": "đánh dấu có vấn đề",
    "submission.return": "trả lại cán bộ",
    "submission.reject": "từ chối",
    "submission.correct": "sửa câu trả lời",
    "submission.quarantine": "giữ lại",
    "attachment.clash": "tệp đính kèm trùng tên",
    # quarantine
    "What to do": "Cần làm gì",
    "Reason": "Lý do",
    "Sent": "Thời điểm gửi",
    "Open": "Chưa xử lý",
    "Resolved": "Đã xử lý",
    "Nothing is kept in quarantine.": "Không có dữ liệu nào bị giữ lại.",
    "Process again": "Xử lý lại",
    "Payload as received": "Dữ liệu như đã nhận",
    "Stored now as submission {id}.": "Đã lưu thành bản gửi {id}.",
    "Still kept: {message}": "Vẫn bị giữ lại: {message}",
    "Linked submission": "Bản gửi liên quan",
    "Compare it with the stored submission; if this one is right, correct the stored one.": (
        "So sánh với bản gửi đã lưu; nếu bản này đúng, hãy sửa bản đã lưu."
    ),
    "Load and publish this form version, then process again.": (
        "Hãy tải lên và công bố phiên bản biểu mẫu này, rồi xử lý lại."
    ),
    "The edit replaces a record the server lacks: wait for the original, then process again.": (
        "Bản sửa thay cho một bản ghi máy chủ chưa có: chờ bản gốc đến rồi xử lý lại."
    ),
    "The edit replaces an old version: compare it with the current version and correct that.": (
        "Bản sửa thay cho một phiên bản cũ: so sánh với phiên bản hiện tại và sửa bản đó."
    ),
    "The sender may not send this: check their area and forms, then process again.": (
        "Người gửi không được gửi dữ liệu này: kiểm tra địa bàn và biểu mẫu, rồi xử lý lại."
    ),
    "The payload cannot be read: ask the cadre to send it again from the tablet.": (
        "Không đọc được dữ liệu: đề nghị cán bộ gửi lại từ máy tính bảng."
    ),
    "Read the reason, fix its cause, then process again.": (
        "Đọc lý do, khắc phục nguyên nhân, rồi xử lý lại."
    ),
}

# The household pages (households, duplicates, exits).
VI.update(
    {
        # households
        "Household records": "Hộ gia đình",
        "Household": "Hộ",
        "Search by name": "Tìm theo tên",
        "Record status": "Tình trạng hồ sơ",
        "Poverty status": "Phân loại nghèo",
        "Flagged only": "Chỉ hộ cần xem lại",
        "With conflicts only": "Chỉ hộ có mâu thuẫn",
        "{n} households": "{n} hộ",
        "Version": "Phiên bản",
        "Updated": "Cập nhật",
        "Needs a look": "Cần xem lại",
        "{n} conflicts": "{n} mâu thuẫn",
        "{n} held updates": "{n} cập nhật đang chờ",
        "flagged": "cần xem lại",
        "No household matches these filters.": "Không có hộ nào khớp với bộ lọc.",
        "Merged into": "Đã gộp vào",
        "Households merged into this one": "Các hộ đã gộp vào hộ này",
        "Updates held": "Cập nhật đang chờ",
        "Conflicting edits": "Chỉnh sửa mâu thuẫn",
        "Cadres changed these answers differently at the same time. Choose the value to keep; the "
        "household gets a new version and every edit stays in the history.": (
            "Các cán bộ đã sửa những câu trả lời này khác nhau cùng lúc. Hãy chọn giá trị giữ lại; "
            "hộ sẽ có phiên bản mới và mọi lần sửa vẫn được lưu trong lịch sử."
        ),
        "(empty)": "(để trống)",
        "the value before both edits": "giá trị trước cả hai lần sửa",
        "Open the submission": "Mở bản gửi",
        "shown now": "đang hiển thị",
        "Or another value": "Hoặc giá trị khác",
        "Keep the chosen values": "Giữ các giá trị đã chọn",
        "Current record": "Thông tin hiện tại",
        "Poverty status by year": "Phân loại nghèo theo năm",
        "Year": "Năm",
        "Assessed": "Ngày đánh giá",
        "Standard": "Chuẩn áp dụng",
        "version {n}": "phiên bản {n}",
        "Not assessed yet.": "Chưa được đánh giá.",
        "Cadres": "Cán bộ",
        "No cadre is assigned to households yet: these are the cadres who sent its visits.": (
            "Chưa có phân công cán bộ theo hộ: đây là các cán bộ đã gửi dữ liệu về hộ."
        ),
        "Submissions": "Bản gửi",
        "Last": "Lần gần nhất",
        "Support received": "Hỗ trợ đã nhận",
        "Kind of support": "Loại hỗ trợ",
        "Quantity": "Số lượng",
        "Value (VND)": "Giá trị (đồng)",
        "Given by": "Người hoặc cơ quan trao",
        "No support recorded by the visits.": "Các lượt thăm chưa ghi nhận hỗ trợ nào.",
        "Visits and other submissions": "Lượt thăm và các bản gửi khác",
        "replaced by a correction": "đã được thay bằng bản sửa",
        "Versions": "Các phiên bản",
        "What changed": "Thay đổi",
        "Source": "Nguồn",
        "Registered with {n} answers": "Đăng ký với {n} thông tin",
        "Choose the value to keep for at least one property.": (
            "Hãy chọn giá trị giữ lại cho ít nhất một thông tin."
        ),
        "Conflict resolved: a new version of the household was saved.": (
            "Đã giải quyết mâu thuẫn: đã lưu phiên bản mới của hộ."
        ),
        "household.active": "đang theo dõi",
        "household.closed": "đã đóng",
        "household.merged": "đã gộp vào hộ khác",
        "flag.conflict": "có chỉnh sửa mâu thuẫn",
        "flag.hold_timeout": "cập nhật áp dụng sau khi chờ quá hạn",
        "flag.auto_linked": "đăng ký được tự động gộp vào hộ đã có",
        "flag.redirected": "cập nhật chuyển sang hộ được giữ lại sau khi gộp",
        "flag.closed_update": "có cập nhật cho hộ đã đóng",
        "version.submission": "bản gửi",
        "version.resolve": "quyết định giải quyết mâu thuẫn",
        "version.duplicate_merge": "gộp hộ trùng",
        "version.duplicate_unmerge": "hoàn tác gộp hộ",
        "version.duplicate_unlink": "tách hộ đã tự động gộp",
        # duplicates
        "Duplicates": "Hộ trùng",
        "Possible duplicates": "Hộ có thể bị trùng",
        "Possible duplicate": "Hộ có thể trùng",
        "Pair of households": "Cặp hộ",
        "Score": "Điểm",
        "Kind": "Loại",
        "Found": "Phát hiện lúc",
        "No possible duplicates here.": "Không có hộ nào có thể bị trùng.",
        "a case opens at {n}": "từ {n} điểm thì cần xem xét",
        "Compared": "Nội dung so sánh",
        "Points": "Điểm",
        "Decided": "Đã quyết định",
        "Kept": "Hộ được giữ lại",
        "Undo this decision": "Hoàn tác quyết định này",
        "Side by side": "So sánh hai hộ",
        "Differences are highlighted. To merge, choose the household that stays and, for each "
        "difference, whose value it keeps.": (
            "Các điểm khác nhau được tô màu. Để gộp, hãy chọn hộ được giữ lại và, với mỗi "
            "điểm khác nhau, chọn giá trị của hộ nào."
        ),
        "new registration": "đăng ký mới",
        "Keep this household": "Giữ hộ này",
        "Members": "Thành viên",
        "Merge into the household kept": "Gộp vào hộ được giữ lại",
        "These are two different households": "Đây là hai hộ khác nhau",
        "Choose merge, two different households, or undo.": (
            "Hãy chọn gộp, hai hộ khác nhau, hoặc hoàn tác."
        ),
        "The two households were merged.": "Đã gộp hai hộ.",
        "Marked as two different households.": "Đã xác định là hai hộ khác nhau.",
        "The decision was undone.": "Đã hoàn tác quyết định.",
        "case.open": "đang chờ xem xét",
        "case.auto_linked": "đã tự động gộp",
        "case.merged": "đã gộp",
        "case.distinct": "hai hộ khác nhau",
        "case.unlinked": "đã tách",
        "case.all": "tất cả",
        "kind.exact": "trùng mã hộ hoặc CCCD",
        "kind.fuzzy": "giống nhau nhiều điểm",
        "score.name": "Họ tên chủ hộ",
        "score.birth_year": "Năm sinh chủ hộ",
        "score.cccd": "Số CCCD chủ hộ",
        "score.household_code": "Mã hộ",
        "score.code": "Mã hộ",
        "score.phone": "Số điện thoại",
        "score.distance": "Khoảng cách vị trí (GPS)",
        "score.village": "Thôn, bản",
        "score.members": "Thành viên trong hộ",
        # exits
        "Poverty exits": "Thoát nghèo",
        "Poverty exits to certify": "Hộ thoát nghèo chờ công nhận",
        "To certify": "Chờ công nhận",
        "Households whose latest assessment took them out of poverty or near-poverty. Certify with "
        "the date of the commune's decision, or decline with the reason.": (
            "Các hộ có kết quả đánh giá gần nhất cho thấy đã thoát nghèo hoặc thoát cận nghèo. "
            "Công nhận kèm ngày quyết định của xã, hoặc không công nhận kèm lý do."
        ),
        "Change": "Thay đổi",
        "Decision date": "Ngày quyết định",
        "Certify": "Công nhận",
        "Decline": "Không công nhận",
        "Decline the exit": "Không công nhận thoát nghèo",
        "No exit waits for certification.": "Không có hộ thoát nghèo nào chờ công nhận.",
        "No decision yet.": "Chưa có quyết định nào.",
        "Exit certified.": "Đã công nhận thoát nghèo.",
        "Exit declined.": "Đã không công nhận thoát nghèo.",
        "exit.certified": "đã công nhận",
        "exit.declined": "không công nhận",
        "exits certified this year (since {date})": (
            "hộ được công nhận thoát nghèo trong năm (từ {date})"
        ),
    }
)

#: English for the dotted ids of stored values (the other texts are their own English).
EN: dict[str, str] = {
    "household.active": "active",
    "household.closed": "closed",
    "household.merged": "merged into another",
    "flag.conflict": "conflicting edits",
    "flag.hold_timeout": "an update applied after waiting too long",
    "flag.auto_linked": "a registration linked automatically to this household",
    "flag.redirected": "an update redirected here after a merge",
    "flag.closed_update": "an update of a closed household",
    "version.submission": "submission",
    "version.resolve": "conflict resolution",
    "version.duplicate_merge": "duplicate merge",
    "version.duplicate_unmerge": "merge undone",
    "version.duplicate_unlink": "automatic link undone",
    "case.open": "open",
    "case.auto_linked": "linked automatically",
    "case.merged": "merged",
    "case.distinct": "two different households",
    "case.unlinked": "unlinked",
    "case.all": "all",
    "kind.exact": "same household code or CCCD",
    "kind.fuzzy": "similar on several answers",
    "score.name": "Head's name",
    "score.birth_year": "Head's birth year",
    "score.cccd": "Head's CCCD",
    "score.household_code": "Household code",
    "score.code": "Household code",
    "score.phone": "Phone",
    "score.distance": "GPS distance",
    "score.village": "Village",
    "score.members": "Household members",
    "exit.certified": "certified",
    "exit.declined": "declined",
}
