"""The support catalogue the project ships: the kinds of help the programme reports apart.

One row per kind: code, category (money, goods, service, loan, sponsorship), unit, report
group, whether it counts pupils, Vietnamese and English names. The shipped visit form's
`support_kind` choices are these codes, and the migration that made the `support_kinds`
table inserted them; a deployment adds its own kinds in the database (the site or
`giupho support kinds`), never by editing this list in place.

Units are codes with their names here too (`UNITS`), so the form, the ledger and the reports
speak of "kg", "bộ" and "con" the same way.
"""

from __future__ import annotations

from typing import NamedTuple


class Kind(NamedTuple):
    code: str
    category: str
    unit: str
    group: str | None
    counts_pupils: bool
    vi: str
    en: str


UNITS: dict[str, tuple[str, str]] = {
    "vnd": ("đồng", "VND"),
    "kg": ("kg", "kg"),
    "set": ("bộ", "sets"),
    "item": ("cái, chiếc", "items"),
    "book": ("quyển", "books"),
    "head": ("con", "head"),
    "plant": ("cây", "plants"),
    "workday": ("ngày công", "workdays"),
    "card": ("thẻ", "cards"),
    "course": ("lớp", "courses"),
    "person": ("lượt người", "person-times"),
    "package": ("suất", "packages"),
    "house": ("căn", "houses"),
    "m2": ("m²", "m²"),
    "work": ("công trình", "works"),
    "model": ("mô hình", "models"),
}

KINDS: tuple[Kind, ...] = (
    # money
    Kind("cash", "money", "vnd", None, False, "Tiền mặt", "Cash"),
    # sponsorship over time
    Kind("allowance", "sponsorship", "vnd", None, False, "Trợ cấp hằng tháng",
         "Monthly allowance"),
    Kind("scholarship", "sponsorship", "vnd", "education", True, "Học bổng", "Scholarships"),
    Kind("sponsored_pupil", "sponsorship", "vnd", "education", True,
         "Nhận đỡ đầu học sinh", "Sponsored pupils"),
    # goods
    Kind("rice", "goods", "kg", "food", False, "Gạo", "Rice"),
    Kind("sugar", "goods", "kg", "food", False, "Đường", "Sugar"),
    Kind("books", "goods", "set", "education", True, "Bộ sách giáo khoa", "Sets of textbooks"),
    Kind("notebooks", "goods", "book", "education", True, "Vở viết", "Notebooks"),
    Kind("clothes", "goods", "set", "education", True, "Bộ quần áo", "Sets of clothes"),
    Kind("bicycle", "goods", "item", "education", True, "Xe đạp", "Bicycles"),
    Kind("livestock", "goods", "head", "livestock", False, "Vật nuôi", "Livestock"),
    Kind("cattle", "goods", "head", "livestock", False, "Bò", "Cows"),
    Kind("buffalo", "goods", "head", "livestock", False, "Trâu", "Buffalo"),
    Kind("pig", "goods", "head", "livestock", False, "Lợn", "Pigs"),
    Kind("goat", "goods", "head", "livestock", False, "Dê", "Goats"),
    Kind("poultry", "goods", "head", "livestock", False, "Gia cầm (gà, vịt)",
         "Poultry (chickens, ducks)"),
    Kind("seedlings", "goods", "plant", "production", False, "Cây giống", "Seedlings"),
    Kind("fertiliser", "goods", "kg", "production", False, "Phân bón", "Fertiliser"),
    Kind("housing", "goods", "house", "housing", False, "Xây, sửa nhà (xoá nhà tạm)",
         "Housing (removing temporary houses)"),
    Kind("latrine", "goods", "item", "housing", False, "Nhà tiêu hợp vệ sinh",
         "Sanitary latrines"),
    Kind("equipment", "goods", "item", "works", False, "Trang thiết bị, máy móc",
         "Equipment and machines"),
    Kind("works", "goods", "work", "works", False,
         "Công trình (đường, điện, cầu, nhà văn hoá)",
         "Works (roads, lights, bridges, halls)"),
    Kind("tet_gift", "goods", "package", None, False, "Quà Tết", "Tết gifts"),
    # services
    Kind("workdays", "service", "workday", None, False, "Ngày công lao động", "Workdays"),
    Kind("health_check", "service", "person", "health", False, "Khám bệnh, cấp thuốc",
         "Health checks and medicine"),
    Kind("health_insurance", "service", "card", "health", False, "Thẻ bảo hiểm y tế",
         "Health insurance cards"),
    Kind("training", "service", "course", "production", False,
         "Tập huấn, chuyển giao kỹ thuật", "Training and technology transfer"),
    Kind("job_placement", "service", "person", "production", False, "Giới thiệu việc làm",
         "Job placement"),
    Kind("production_model", "service", "model", "production", False,
         "Mô hình sản xuất, sinh kế", "Production and livelihood models"),
    # loans
    Kind("loan_capital", "loan", "vnd", None, False, "Cho vay vốn", "Lent capital"),
    Kind("loan_land", "loan", "m2", None, False, "Cho mượn đất sản xuất", "Lent farmland"),
    # anything else: the form asks what it was
    Kind("other", "goods", "item", None, False, "Hỗ trợ khác", "Other support"),
)

#: The support_kind codes of visit forms before each kind stood apart (up to version
#: 2026112101), and the catalogue kind each is counted as, so no earlier entry is lost.
#: Codes not listed here (rice, seedlings, housing, scholarship, ...) are catalogue codes.
LEGACY_CODES: dict[str, str] = {
    "capital": "loan_capital",
}


def catalogue_code(code: str) -> str:
    """The catalogue code of a support_kind answer, from any version of the visit form."""
    return LEGACY_CODES.get(code, code)
