"""Survey sheet rows of the shipped forms, as tables.

Each row is a dict whose keys are short names of XLSForm columns (see
`build.COLUMNS`): `vi`/`en` are the labels, `hint_vi`/`hint_en` the hints,
`constraint_vi`/`constraint_en` the constraint messages. Blocks are shared:
both forms ask the same poverty assessment and compute the classification the
same way, so the block is written once.

Thresholds, indicator ids and status words are not typed here: they come from
`forms/poverty/standards.json` (the 2022–2026 standard), so the forms and the
Python classifier read one source.
"""

from __future__ import annotations

from forms.poverty import load_standards

STANDARD = load_standards().get("vn-2022-2026")
STATUSES = load_standards().statuses
INDICATORS = STANDARD.indicator_ids()


def line(area: str, band: str) -> int:
    return STANDARD.line(area, band)


def status_words(ref: str, lang: str) -> str:
    """Nested if() giving the status word of `ref` in `lang` (the note cannot look up labels)."""
    expr = "''"
    for status, label in reversed(list(STATUSES.items())):
        expr = f"if({ref} = '{status}', '{label.get(lang)}', {expr})"
    return expr


def cccd_ok(sex: str, year: str) -> str:
    """CCCD check (domain.md): 12 digits; digit 4 = century and sex; digits 5-6 = birth year.

    Digit 4 is 2 x (century - 19) + 1 for women: 0/1 for the 1900s, 2/3 for
    the 2000s, 4/5 for the 2100s. ODK's substr() is 0-based with an exclusive end.
    """
    return (
        "regex(., '^[0-9]{12}$')"
        f" and number(substr(., 3, 4)) = 2 * (floor({year} div 100) - 19)"
        f" + if({sex} = 'female', 1, 0)"
        f" and number(substr(., 4, 6)) = {year} mod 100"
    )


REQUIRED_VI = "Câu hỏi này bắt buộc phải trả lời."
REQUIRED_EN = "This question is required."

CCCD_VI = (
    "Số CCCD gồm 12 chữ số; chữ số thứ 4 đến 6 phải khớp với giới tính và năm sinh "
    "(ví dụ: nam sinh năm 1985 → ...085...; nữ sinh năm 2005 → ...305...)."
)
CCCD_EN = (
    "A CCCD number has 12 digits; digits 4 to 6 must agree with sex and birth year "
    "(e.g. a man born in 1985 → ...085...; a woman born in 2005 → ...305...)."
)
CCCD_HINT_VI = "Căn cước công dân 12 số. Bỏ trống nếu chưa có."
CCCD_HINT_EN = "12-digit citizen ID (CCCD). Leave empty if the person has none."
BIRTH_YEAR = ". >= 1900 and . <= number(format-date(today(), '%Y'))"
BIRTH_YEAR_VI = "Năm sinh phải từ 1900 đến năm hiện tại."
BIRTH_YEAR_EN = "The birth year must be between 1900 and this year."
PHONE = "regex(., '^0[0-9]{9,10}$')"
NONE_ALONE = "not(selected(., 'none') and count-selected(.) > 1)"
NONE_ALONE_VI = "Không thể chọn \u201cKhông có\u201d cùng với lựa chọn khác."
NONE_ALONE_EN = "\u201cNone\u201d cannot be chosen together with another option."

CLEAN_WATER = (
    "piped", "drilled_well", "protected_well", "protected_spring", "rainwater", "bottled",
)
HYGIENIC_LATRINE = ("septic", "pour_flush", "double_vault", "ventilated_pit")


def kind_column(column: str) -> str:
    """A column of the chosen support kind's row in the support_kind choices."""
    return f"instance('support_kind')/root/item[name = ${{support_kind}}]/{column}"


def any_of(ref: str, names: tuple[str, ...]) -> str:
    return " or ".join(f"{ref} = '{n}'" for n in names)


METADATA = [
    {"type": "start", "name": "start"},
    {"type": "end", "name": "end"},
    {"type": "today", "name": "today"},
    {"type": "deviceid", "name": "deviceid"},
    {"type": "username", "name": "username"},
]

# The visit form's audit log (Collect's `audit.csv`, sent as an attachment): the time spent on
# each question and, with location tracking, where the tablet was while the form was open; the
# evidence of token-visit monitoring (issue 16). Balanced priority (network and GPS) keeps the
# battery through a day of visits; a fix at most every minute, none older than two minutes.
# Enketo and ODK Web Forms ignore the `audit` row (no log is sent), so the form loads in both.
AUDIT = [
    {"type": "audit", "name": "audit",
     "parameters": "location-priority=balanced location-min-interval=60 location-max-age=120"},
]

# ---------------------------------------------------------------- registration

# The places the user may register in: `places.csv`, generated per user by the server with
# the codes of their villages, communes and province (a `name` column). The choices below are
# the form's own (names, and what the server checks answers against); the filters offer only
# those the list names. An empty list (an administrator's, or no list at all) filters nothing.
MY_PLACES = "string(${my_places}) = '' or selected(${my_places}, name)"

PLACE = [
    {"type": "csv-external", "name": "places"},
    {"type": "calculate", "name": "my_places",
     "calculation": "join(' ', instance('places')/root/item/name)"},
    {"type": "begin_group", "name": "place", "vi": "Địa bàn", "en": "Location",
     "appearance": "field-list"},
    {"type": "select_one province", "name": "province", "vi": "Tỉnh, thành phố",
     "en": "Province or city", "required": "yes", "choice_filter": MY_PLACES,
     "save_to": "province"},
    {"type": "select_one commune", "name": "commune", "vi": "Xã, phường, đặc khu",
     "en": "Commune or ward", "required": "yes",
     "choice_filter": f"province = ${{province}} and ({MY_PLACES})", "save_to": "commune"},
    {"type": "select_one village", "name": "village", "vi": "Thôn, bản, tổ dân phố",
     "en": "Village or residential group", "required": "yes",
     "choice_filter": f"commune = ${{commune}} and ({MY_PLACES})", "save_to": "village"},
    {"type": "select_one area", "name": "area", "vi": "Khu vực", "en": "Area",
     "hint_vi": "Thành thị: phường; nông thôn: xã. Chuẩn nghèo khác nhau theo khu vực.",
     "hint_en": "Urban: ward (phường); rural: commune (xã). The poverty line depends on it.",
     "required": "yes", "save_to": "area"},
    {"type": "text", "name": "address", "vi": "Địa chỉ (số nhà, đường, xóm)",
     "en": "Address (house number, street, hamlet)", "save_to": "address"},
    {"type": "text", "name": "household_code", "vi": "Mã hộ (theo danh sách của xã)",
     "en": "Official household code (from the commune list)",
     "hint_vi": "Bỏ trống nếu hộ chưa có mã.", "hint_en": "Leave empty if the household has none.",
     "save_to": "household_code"},
    {"type": "end_group", "name": "place"},
]

HEAD = [
    {"type": "begin_group", "name": "head", "vi": "Chủ hộ", "en": "Head of household",
     "appearance": "field-list"},
    {"type": "text", "name": "head_name", "vi": "Họ và tên chủ hộ", "en": "Full name of the head",
     "hint_vi": "Viết đủ họ, tên đệm và tên, có dấu (ví dụ: Nguyễn Văn An; Y Ngông Niê Kdăm).",
     "hint_en": "Full name with diacritics (e.g. Nguyễn Văn An; Y Ngông Niê Kdăm).",
     "required": "yes", "save_to": "head_name"},
    {"type": "select_one sex", "name": "head_sex", "vi": "Giới tính", "en": "Sex",
     "required": "yes", "save_to": "head_sex"},
    {"type": "integer", "name": "head_birth_year", "vi": "Năm sinh", "en": "Year of birth",
     "required": "yes", "constraint": BIRTH_YEAR, "constraint_vi": BIRTH_YEAR_VI,
     "constraint_en": BIRTH_YEAR_EN, "save_to": "head_birth_year"},
    {"type": "text", "name": "head_cccd", "vi": "Số CCCD của chủ hộ", "en": "Head's CCCD number",
     "hint_vi": CCCD_HINT_VI, "hint_en": CCCD_HINT_EN,
     "constraint": cccd_ok("${head_sex}", "${head_birth_year}"),
     "constraint_vi": CCCD_VI, "constraint_en": CCCD_EN, "appearance": "numbers",
     "save_to": "head_cccd"},
    {"type": "select_one ethnicity", "name": "ethnicity", "vi": "Dân tộc", "en": "Ethnic group",
     "required": "yes", "save_to": "ethnicity"},
    {"type": "text", "name": "ethnicity_other", "vi": "Dân tộc khác (ghi rõ)",
     "en": "Other ethnic group (specify)", "required": "yes",
     "relevant": "${ethnicity} = 'other'", "save_to": "ethnicity_other"},
    {"type": "calculate", "name": "ethnic_minority",
     "calculation": "if(${ethnicity} = '', '', if(${ethnicity} = 'kinh', 'no', 'yes'))",
     "save_to": "ethnic_minority"},
    {"type": "text", "name": "phone", "vi": "Số điện thoại liên hệ", "en": "Contact phone number",
     "constraint": PHONE, "constraint_vi": "Số điện thoại gồm 10 hoặc 11 chữ số, bắt đầu bằng 0.",
     "constraint_en": "A phone number has 10 or 11 digits and starts with 0.",
     "appearance": "numbers", "save_to": "phone"},
    {"type": "end_group", "name": "head"},
]

MEMBERS = [
    {"type": "begin_repeat", "name": "member", "vi": "Thành viên khác trong hộ",
     "en": "Other household member",
     "hint_vi": "Mỗi người cùng ăn, ở trong hộ, trừ chủ hộ.",
     "hint_en": "Everyone who lives and eats in the household, except the head."},
    {"type": "text", "name": "member_name", "vi": "Họ và tên", "en": "Full name",
     "required": "yes"},
    {"type": "select_one sex", "name": "member_sex", "vi": "Giới tính", "en": "Sex",
     "required": "yes"},
    {"type": "integer", "name": "member_birth_year", "vi": "Năm sinh", "en": "Year of birth",
     "required": "yes", "constraint": BIRTH_YEAR, "constraint_vi": BIRTH_YEAR_VI,
     "constraint_en": BIRTH_YEAR_EN},
    {"type": "select_one relation", "name": "member_relation", "vi": "Quan hệ với chủ hộ",
     "en": "Relation to the head", "required": "yes"},
    {"type": "text", "name": "member_cccd", "vi": "Số CCCD", "en": "CCCD number",
     "hint_vi": CCCD_HINT_VI, "hint_en": CCCD_HINT_EN,
     "constraint": cccd_ok("${member_sex}", "${member_birth_year}"),
     "constraint_vi": CCCD_VI, "constraint_en": CCCD_EN, "appearance": "numbers"},
    {"type": "end_repeat", "name": "member"},
    {"type": "calculate", "name": "hh_size", "calculation": "count(${member}) + 1",
     "save_to": "hh_size"},
]

HOUSE_LOCATION = [
    {"type": "begin_group", "name": "house", "vi": "Vị trí và hình ảnh nhà",
     "en": "House location and photo"},
    {"type": "geopoint", "name": "house_location", "vi": "Vị trí nhà (GPS)",
     "en": "House location (GPS)",
     "hint_vi": "Đứng trước cửa nhà và chờ độ chính xác dưới 10 m.",
     "hint_en": "Stand at the front door and wait for an accuracy under 10 m.",
     "save_to": "geometry"},
    {"type": "image", "name": "house_photo", "vi": "Ảnh chụp nhà", "en": "Photo of the house",
     "parameters": "max-pixels=1024"},
    {"type": "end_group", "name": "house"},
]

# ---------------------------------------------------------------- visit

HOUSEHOLD_CHOICE = [
    {"type": "begin_group", "name": "visited", "vi": "Hộ được thăm", "en": "Household visited"},
    {"type": "select_one_from_file households.csv", "name": "household",
     "vi": "Chọn hộ gia đình", "en": "Choose the household",
     "hint_vi": "Gõ vài chữ của tên chủ hộ để tìm.", "hint_en": "Type part of the head's name.",
     "required": "yes", "appearance": "autocomplete"},
    {"type": "calculate", "name": "prev_status",
     "calculation": "instance('households')/root/item[name = ${household}]/poverty_status"},
    {"type": "calculate", "name": "prev_status_vi",
     "calculation": status_words("${prev_status}", "vi")},
    {"type": "calculate", "name": "prev_status_en",
     "calculation": status_words("${prev_status}", "en")},
    {"type": "note", "name": "prev_status_note",
     "vi": "Phân loại lần trước: ${prev_status_vi}", "en": "Last classification: ${prev_status_en}",
     "relevant": "${prev_status} != ''"},
    {"type": "select_one area", "name": "area", "vi": "Khu vực", "en": "Area",
     "hint_vi": "Lấy theo hồ sơ hộ; sửa nếu sai.",
     "hint_en": "From the household record; correct it if wrong.",
     "required": "yes", "trigger": "${household}",
     "calculation": "instance('households')/root/item[name = ${household}]/area",
     "save_to": "area"},
    {"type": "integer", "name": "hh_size", "vi": "Số nhân khẩu hiện nay",
     "en": "Number of household members now",
     "hint_vi": "Lấy theo hồ sơ hộ; sửa nếu có thay đổi.",
     "hint_en": "From the household record; correct it if it changed.",
     "required": "yes", "constraint": ". >= 1 and . <= 50",
     "constraint_vi": "Số nhân khẩu từ 1 đến 50.", "constraint_en": "Between 1 and 50 members.",
     "trigger": "${household}",
     "calculation": "instance('households')/root/item[name = ${household}]/hh_size",
     "save_to": "hh_size"},
    {"type": "end_group", "name": "visited"},
    {"type": "begin_group", "name": "visit", "vi": "Chuyến thăm", "en": "The visit"},
    {"type": "geopoint", "name": "visit_location", "vi": "Vị trí nơi thăm (GPS)",
     "en": "Location of the visit (GPS)",
     "hint_vi": "Ghi tại nhà của hộ.", "hint_en": "Record it at the household's home."},
    {"type": "image", "name": "visit_photo", "vi": "Ảnh chuyến thăm", "en": "Photo of the visit",
     "parameters": "max-pixels=1024"},
    {"type": "end_group", "name": "visit"},
]

FOLLOW_UP = [
    {"type": "begin_group", "name": "plan", "vi": "Nguyên nhân nghèo và kế hoạch",
     "en": "Cause of poverty and plan"},
    {"type": "select_multiple poverty_cause", "name": "poverty_causes",
     "vi": "Nguyên nhân nghèo", "en": "Causes of poverty", "required": "yes"},
    {"type": "text", "name": "poverty_cause_other", "vi": "Nguyên nhân khác (ghi rõ)",
     "en": "Other cause (specify)", "required": "yes",
     "relevant": "selected(${poverty_causes}, 'other')"},
    {"type": "text", "name": "plan_agreed", "vi": "Kế hoạch đã thống nhất với hộ",
     "en": "Plan agreed with the household",
     "hint_vi": "Việc hộ sẽ làm, hỗ trợ sẽ nhận và thời hạn.",
     "hint_en": "What the household will do, what support it will get, and by when.",
     "required": "yes", "appearance": "multiline"},
    {"type": "end_group", "name": "plan"},
    {"type": "select_one yes_no", "name": "support_given",
     "vi": "Lần thăm này có trao hỗ trợ cho hộ không?",
     "en": "Was support delivered during this visit?", "required": "yes"},
    {"type": "begin_repeat", "name": "support", "vi": "Hỗ trợ đã trao", "en": "Support delivered",
     "relevant": "${support_given} = 'yes'"},
    {"type": "select_one support_kind", "name": "support_kind", "vi": "Loại hỗ trợ",
     "en": "Kind of support", "hint_vi": "Mỗi loại một lần nhập: sách, vở, xe đạp ghi riêng.",
     "hint_en": "One entry per kind: books, notebooks and bicycles apart.", "required": "yes"},
    {"type": "text", "name": "support_kind_other", "vi": "Loại hỗ trợ khác (ghi rõ)",
     "en": "Other kind (specify)", "required": "yes", "relevant": "${support_kind} = 'other'"},
    # The kind's unit and whether it counts pupils, from the support_kind choices' columns.
    {"type": "calculate", "name": "support_kind_unit", "calculation": kind_column("unit")},
    {"type": "calculate", "name": "support_kind_unit_vi", "calculation": kind_column("unit_vi")},
    {"type": "calculate", "name": "support_kind_unit_en", "calculation": kind_column("unit_en")},
    {"type": "calculate", "name": "support_kind_pupils", "calculation": kind_column("pupils")},
    {"type": "select_one unit", "name": "support_unit", "vi": "Đơn vị tính", "en": "Unit",
     "required": "yes", "relevant": "${support_kind} = 'other'"},
    {"type": "decimal", "name": "support_quantity",
     "vi": "Số lượng (${support_kind_unit_vi})", "en": "Quantity (${support_kind_unit_en})",
     "required": "yes", "relevant": "${support_kind} = 'other' or ${support_kind_unit} != 'vnd'",
     "constraint": ". > 0", "constraint_vi": "Số lượng phải lớn hơn 0.",
     "constraint_en": "The quantity must be more than 0."},
    {"type": "integer", "name": "support_value", "vi": "Giá trị (đồng)", "en": "Value (VND)",
     "hint_vi": "Số tiền, hoặc giá trị quy ra tiền của hiện vật.",
     "hint_en": "The amount, or what the goods are worth in VND.",
     "required": "yes", "constraint": ". >= 0", "constraint_vi": "Giá trị không được âm.",
     "constraint_en": "The value cannot be negative."},
    {"type": "select_one support_source", "name": "support_source", "vi": "Nguồn hỗ trợ",
     "en": "Source of the support", "required": "yes"},
    {"type": "text", "name": "support_giver", "vi": "Tên người, cơ quan hoặc đơn vị trao",
     "en": "Name of the giver (person, agency or business)"},
    {"type": "integer", "name": "support_pupils", "vi": "Số học sinh được hỗ trợ",
     "en": "Pupils helped", "required": "yes", "relevant": "${support_kind_pupils} = 'yes'",
     "constraint": ". >= 0 and . <= 50", "constraint_vi": "Số học sinh từ 0 đến 50.",
     "constraint_en": "Between 0 and 50 pupils."},
    {"type": "date", "name": "support_date", "vi": "Ngày trao",
     "en": "Date given", "hint_vi": "Bỏ trống nếu trao trong ngày thăm.",
     "hint_en": "Leave empty if it was given on the day of the visit.",
     "constraint": "decimal-date-time(.) <= decimal-date-time(today()) and "
                   "decimal-date-time(.) >= decimal-date-time('2000-01-01')",
     "constraint_vi": "Ngày trao phải từ năm 2000 đến hôm nay.",
     "constraint_en": "The date must be between 2000 and today."},
    {"type": "end_repeat", "name": "support"},
    {"type": "calculate", "name": "support_total", "calculation": "sum(${support_value})"},
    {"type": "begin_group", "name": "exit", "vi": "Đánh giá thoát nghèo",
     "en": "Exit assessment"},
    {"type": "select_one yes_no", "name": "exit_claimed",
     "vi": "Hộ có tự đánh giá đã thoát nghèo không?",
     "en": "Does the household consider it has escaped poverty?", "required": "yes",
     "save_to": "exit_claimed"},
    {"type": "text", "name": "exit_evidence", "vi": "Căn cứ (thu nhập, tài sản, việc làm mới...)",
     "en": "Evidence (income, assets, new work...)", "required": "yes",
     "relevant": "${exit_claimed} = 'yes'", "appearance": "multiline"},
    {"type": "note", "name": "exit_mismatch",
     "vi": "Hộ tự đánh giá đã thoát nghèo nhưng kết quả tính theo chuẩn vẫn là hộ nghèo: "
           "ghi rõ căn cứ để xã xem xét.",
     "en": "The household says it has escaped poverty but the standard still classifies it "
           "as poor: record the evidence for the commune to review.",
     "relevant": "${exit_claimed} = 'yes' and ${poverty_status} = 'poor'"},
    {"type": "end_group", "name": "exit"},
    {"type": "calculate", "name": "last_visit_date", "calculation": "${today}",
     "save_to": "last_visit_date"},
]
