"""Choice lists of the shipped forms: (name, Vietnamese label, English label) per option.

Places are the exception: the province and commune names and codes are read
from the `vietnamadminunits` package (the 34-province units in force since
1 July 2025) so nobody hand-types them; villages are not in any package
(domain.md), so the demo villages below are an editable table that a
deployment replaces with its own.
"""

from __future__ import annotations

from vietnamadminunits.database import query

from forms.library.support_kinds import KINDS, UNITS

Option = tuple[str, str, str]

# Demo area: the province and communes of the demo seed (`server.services.demo.seed`) and of
# the integration tests, so that demo and test submissions name places the server
# has: two rural communes (xã) and one urban ward (phường), so that both income
# lines of the standard can be tried out.
DEMO_PROVINCE = "11"  # Tỉnh Điện Biên
DEMO_COMMUNES = ("03316", "03325", "03334")  # Xã Nà Tấu, Xã Mường Phăng, Phường Mường Thanh

# (commune code, village code, Vietnamese name, English name); codes are
# commune code + serial so that they stay unique across communes. The serial is
# the village's code under its commune on the server (admin unit 11/03325/01).
DEMO_VILLAGES = [
    ("03316", "03316_01", "Bản Nà Tấu 1", "Nà Tấu 1 village"),
    ("03316", "03316_02", "Bản Co Mỵ", "Co Mỵ village"),
    ("03316", "03316_03", "Bản Hát Lếch", "Hát Lếch village"),
    ("03325", "03325_01", "Bản Phăng 1", "Phăng 1 village"),
    ("03325", "03325_02", "Bản Khá", "Khá village"),
    ("03325", "03325_03", "Bản Co Cượu", "Co Cượu village"),
    ("03325", "03325_04", "Bản Xôm", "Xôm village"),
    ("03334", "03334_01", "Tổ dân phố 1", "Residential group 1"),
    ("03334", "03334_02", "Tổ dân phố 2", "Residential group 2"),
]

UNIT_TYPE_EN = {"Xã": "commune", "Phường": "ward", "Đặc khu": "special zone"}

CHOICES: dict[str, list[Option]] = {
    "yes_no": [
        ("yes", "Có", "Yes"),
        ("no", "Không", "No"),
    ],
    "sex": [
        ("male", "Nam", "Male"),
        ("female", "Nữ", "Female"),
    ],
    "area": [
        ("rural", "Nông thôn", "Rural"),
        ("urban", "Thành thị", "Urban"),
    ],
    "relation": [
        ("spouse", "Vợ hoặc chồng", "Spouse"),
        ("child", "Con", "Son or daughter"),
        ("child_in_law", "Con dâu hoặc con rể", "Son- or daughter-in-law"),
        ("grandchild", "Cháu", "Grandchild"),
        ("parent", "Bố hoặc mẹ", "Father or mother"),
        ("parent_in_law", "Bố hoặc mẹ vợ/chồng", "Father- or mother-in-law"),
        ("sibling", "Anh, chị hoặc em", "Brother or sister"),
        ("other_relative", "Họ hàng khác", "Other relative"),
        ("other", "Người không có quan hệ họ hàng", "Not related"),
    ],
    "ethnicity": [
        ("kinh", "Kinh", "Kinh"),
        ("tay", "Tày", "Tày"),
        ("thai", "Thái", "Thái"),
        ("muong", "Mường", "Mường"),
        ("khmer", "Khmer", "Khmer"),
        ("hoa", "Hoa", "Hoa"),
        ("nung", "Nùng", "Nùng"),
        ("hmong", "Mông", "Hmong"),
        ("dao", "Dao", "Dao"),
        ("gia_rai", "Gia Rai", "Jrai"),
        ("e_de", "Ê Đê", "Ê Đê (Rhade)"),
        ("ba_na", "Ba Na", "Bahnar"),
        ("giay", "Giáy", "Giáy"),
        ("ha_nhi", "Hà Nhì", "Hà Nhì"),
        ("phu_la", "Phù Lá", "Phù Lá"),
        ("other", "Dân tộc khác", "Other ethnic group"),
    ],
    "house_part": [
        ("walls", "Tường bao quanh", "Walls"),
        ("columns", "Cột (khung nhà)", "Columns (frame)"),
        ("roof", "Mái", "Roof"),
        ("none", "Không có (cả ba đều bền chắc)", "None (all three are durable)"),
    ],
    # Clean sources per the standard: piped, drilled or protected well,
    # protected spring, rainwater, bottled (see CLEAN_WATER in survey_rows.py).
    "water_source": [
        ("piped", "Nước máy", "Piped water"),
        ("drilled_well", "Giếng khoan", "Drilled well"),
        ("protected_well", "Giếng đào được bảo vệ", "Protected dug well"),
        ("protected_spring", "Khe, mó được bảo vệ", "Protected spring"),
        ("rainwater", "Nước mưa", "Rainwater"),
        ("bottled", "Nước đóng chai, đóng bình", "Bottled water"),
        ("unprotected_well", "Giếng đào không được bảo vệ", "Unprotected dug well"),
        ("unprotected_spring", "Khe, mó không được bảo vệ", "Unprotected spring"),
        ("surface", "Sông, suối, ao, hồ", "River, stream, pond or lake"),
        ("other", "Nguồn khác", "Other source"),
    ],
    # Hygienic types per the Ministry of Health's latrine rules: septic, pour-flush,
    # double-vault and ventilated pit (see HYGIENIC_LATRINE in survey_rows.py).
    "latrine_type": [
        ("septic", "Tự hoại", "Septic tank"),
        ("pour_flush", "Thấm dội nước", "Pour-flush"),
        ("double_vault", "Hai ngăn", "Double-vault"),
        ("ventilated_pit", "Chìm có ống thông hơi", "Ventilated improved pit"),
        ("simple_pit", "Hố đào đơn giản", "Simple pit"),
        ("over_water", "Cầu tiêu trên ao, sông", "Over a pond or river"),
        ("none", "Không có nhà tiêu", "No latrine"),
        ("other", "Loại khác", "Other type"),
    ],
    "device": [
        ("tv", "Ti vi", "Television"),
        ("radio", "Radio", "Radio"),
        ("computer", "Máy tính", "Computer"),
        ("smartphone", "Điện thoại thông minh", "Smartphone"),
        ("tablet", "Máy tính bảng", "Tablet"),
        ("none", "Không có phương tiện nào kể trên", "None of these"),
    ],
    "poverty_cause": [
        ("lack_capital", "Thiếu vốn sản xuất, kinh doanh", "Lack of capital"),
        ("lack_land", "Thiếu đất sản xuất", "Lack of farmland"),
        ("lack_means", "Thiếu phương tiện sản xuất", "Lack of tools or equipment"),
        ("lack_labour", "Thiếu lao động", "Lack of labour"),
        ("lack_skills", "Không biết cách làm ăn, thiếu tay nghề", "Lack of know-how or skills"),
        ("no_job", "Có lao động nhưng không có việc làm", "Able to work but no job"),
        ("illness", "Ốm đau, bệnh nặng, tai nạn", "Illness or accident"),
        ("disability", "Có người khuyết tật", "Disability"),
        ("many_dependants", "Đông người ăn theo", "Many dependants"),
        ("disaster", "Thiên tai, dịch bệnh, mất mùa", "Disaster, epidemic or crop failure"),
        ("social_problems", "Tệ nạn xã hội", "Addiction, gambling or other social problems"),
        ("other", "Nguyên nhân khác", "Other cause"),
    ],
    # The shipped support catalogue (`support_kinds.KINDS`, below) and its units (`UNITS`).
    "support_source": [
        ("cadre", "Cán bộ, đảng viên", "Cadre (personally)"),
        ("agency", "Cơ quan, đơn vị", "Agency"),
        (
            "local_government",
            "Cấp ủy, chính quyền địa phương",
            "Local party committee or government",
        ),
        ("organisation", "Đoàn thể, tổ chức", "Mass organisation"),
        ("business", "Doanh nghiệp", "Business"),
        ("donor", "Nhà hảo tâm", "Donor"),
        ("other", "Nguồn khác", "Other source"),
    ],
    "unit": [
        *(
            (code, vi[:1].upper() + vi[1:], en[:1].upper() + en[1:])
            for code, (vi, en) in UNITS.items()
        ),
        ("other", "Đơn vị khác", "Other unit"),
    ],
}


#: The support_kind choices carry the kind's unit (code, Vietnamese and English name) and
#: whether it counts pupils, as extra columns the visit form reads (`kind_column`).
SUPPORT_KIND_COLUMNS = ("unit", "unit_vi", "unit_en", "pupils")


def support_kind_choices() -> list[tuple[str, str, str, dict[str, str]]]:
    """The support_kind options: one per shipped kind, with its extra columns."""
    return [
        (
            k.code,
            k.vi,
            k.en,
            {
                "unit": k.unit,
                "unit_vi": UNITS[k.unit][0],
                "unit_en": UNITS[k.unit][1],
                "pupils": "yes" if k.counts_pupils else "no",
            },
        )
        for k in KINDS
    ]


def place_choices() -> dict[str, list[tuple[str, str, str, dict[str, str]]]]:
    """Province, commune and village options, with the parent code each choice_filter matches."""
    codes = ", ".join(f"'{c}'" for c in DEMO_COMMUNES)
    units = query(
        "SELECT province, provinceShort, provinceCode, ward, wardShort, wardType, wardCode "
        f"FROM admin_units WHERE wardCode IN ({codes}) ORDER BY wardCode"
    )
    province = units[0]
    return {
        "province": [
            (
                province["provinceCode"],
                province["province"],
                f"{province['provinceShort']} province",
                {},
            )
        ],
        "commune": [
            (
                u["wardCode"],
                u["ward"],
                f"{u['wardShort']} {UNIT_TYPE_EN[u['wardType']]}",
                {"province": u["provinceCode"]},
            )
            for u in units
        ],
        "village": [
            (code, vi, en, {"commune": commune}) for commune, code, vi, en in DEMO_VILLAGES
        ],
    }
