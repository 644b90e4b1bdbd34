"""The poverty assessment block both shipped forms ask, and the classification it computes.

One simple question (or two) per indicator of the 2022–2026 standard; a
calculate named after each indicator id (as in `standards.json`) is 1 when
the household is deprived and 0 otherwise; then the deprivation count, the
status (poor / near_poor / average / above) with the same rule as
`forms.poverty.classify`, and a note that shows the result to the cadre.
Every calculated household property is saved to the entity (`save_to`), so
the server can recompute it after a merge (sync-contract H6).

The block expects `${area}` and `${hh_size}` to exist earlier in the form.
"""

from __future__ import annotations

from forms.library.survey_rows import (
    CLEAN_WATER,
    HYGIENIC_LATRINE,
    INDICATORS,
    NONE_ALONE,
    NONE_ALONE_EN,
    NONE_ALONE_VI,
    STANDARD,
    any_of,
    line,
    status_words,
)

YES = "if({} = 'yes', 1, 0)"


def per_area(band: str) -> str:
    """The income line of `band` for the household's area, as an expression."""
    return f"if(${{area}} = 'urban', {line('urban', band)}, {line('rural', band)})"


POVERTY_STATUS = (
    "if(${income_per_person} = '' or ${area} = '', '', "
    f"if(${{income_per_person}} <= ${{poor_line}} and ${{deprivation_count}} >= "
    f"{STANDARD.deprivation_threshold}, 'poor', "
    "if(${income_per_person} <= ${near_poor_line}, 'near_poor', "
    "if(${income_per_person} <= ${average_line}, 'average', 'above'))))"
)

ASSESSMENT = [
    {"type": "begin_group", "name": "income", "vi": "Thu nhập", "en": "Income",
     "appearance": "field-list"},
    {"type": "integer", "name": "income_per_person",
     "vi": "Thu nhập bình quân đầu người mỗi tháng (đồng)",
     "en": "Income per person per month (VND)",
     "hint_vi": "Tổng thu nhập của hộ trong 12 tháng qua, chia cho 12 và cho số nhân khẩu.",
     "hint_en": "The household's total income over the last 12 months, divided by 12 and by "
                "the number of members.",
     "required": "yes", "constraint": ". >= 0 and . <= 1000000000",
     "constraint_vi": "Thu nhập từ 0 đến 1.000.000.000 đồng.",
     "constraint_en": "Income between 0 and 1,000,000,000 VND.",
     "save_to": "income_per_person"},
    {"type": "end_group", "name": "income"},

    {"type": "begin_group", "name": "dim_employment", "vi": "Việc làm", "en": "Employment",
     "appearance": "field-list"},
    {"type": "select_one yes_no", "name": "q_unemployed",
     "vi": "Có ai trong độ tuổi lao động đang thất nghiệp, hoặc làm công hưởng lương mà "
           "không có hợp đồng lao động không?",
     "en": "Is any working-age member unemployed, or working for wages without a labour "
           "contract?", "required": "yes"},
    {"type": "integer", "name": "dependants_count", "vi": "Số người phụ thuộc trong hộ",
     "en": "Number of dependants in the household",
     "hint_vi": "Trẻ em dưới 16 tuổi; người cao tuổi không có lương hưu hay trợ cấp hằng tháng; "
                "người khuyết tật nặng hoặc đặc biệt nặng.",
     "hint_en": "Children under 16; older people with no pension or monthly allowance; people "
                "with a severe disability.",
     "required": "yes", "constraint": ". >= 0 and . <= ${hh_size}",
     "constraint_vi": "Số người phụ thuộc không thể lớn hơn số nhân khẩu.",
     "constraint_en": "There cannot be more dependants than members."},
    {"type": "end_group", "name": "dim_employment"},

    {"type": "begin_group", "name": "dim_health", "vi": "Y tế", "en": "Health",
     "appearance": "field-list"},
    {"type": "select_one yes_no", "name": "q_child_malnourished",
     "vi": "Có trẻ em dưới 16 tuổi bị suy dinh dưỡng (thấp còi hoặc nhẹ cân) không?",
     "en": "Is any child under 16 stunted or underweight?",
     "hint_vi": "Chọn \u201cKhông\u201d nếu hộ không có trẻ em dưới 16 tuổi.",
     "hint_en": "Answer \u201cNo\u201d if there is no child under 16.", "required": "yes"},
    {"type": "select_one yes_no", "name": "q_no_health_insurance",
     "vi": "Có người từ 6 tuổi trở lên không có thẻ bảo hiểm y tế không?",
     "en": "Does any member aged 6 or over lack health insurance?", "required": "yes"},
    {"type": "end_group", "name": "dim_health"},

    {"type": "begin_group", "name": "dim_education", "vi": "Giáo dục", "en": "Education",
     "appearance": "field-list"},
    {"type": "select_one yes_no", "name": "q_adult_undereducated",
     "vi": "Có người 16–30 tuổi không đi học và chưa đạt trình độ theo độ tuổi (16–17 tuổi: "
           "chưa tốt nghiệp THCS; 18–30 tuổi: chưa tốt nghiệp THPT hoặc trung cấp nghề) không?",
     "en": "Is any member aged 16–30 not studying and without the schooling expected for their "
           "age (16–17: lower secondary; 18–30: upper secondary or vocational)?",
     "required": "yes"},
    {"type": "select_one yes_no", "name": "q_child_out_of_school",
     "vi": "Có trẻ em 3–15 tuổi không đi học đúng cấp học theo độ tuổi không?",
     "en": "Does any child aged 3–15 not attend the school level for their age?",
     "required": "yes"},
    {"type": "end_group", "name": "dim_education"},

    {"type": "begin_group", "name": "dim_housing", "vi": "Nhà ở", "en": "Housing",
     "appearance": "field-list"},
    {"type": "select_multiple house_part", "name": "q_non_durable",
     "vi": "Kết cấu nào của nhà làm bằng vật liệu không bền chắc?",
     "en": "Which parts of the house are made of non-durable materials?",
     "required": "yes", "constraint": NONE_ALONE, "constraint_vi": NONE_ALONE_VI,
     "constraint_en": NONE_ALONE_EN},
    {"type": "decimal", "name": "floor_area_m2", "vi": "Tổng diện tích nhà ở của hộ (m²)",
     "en": "Total floor area of the household's home (m²)",
     "hint_vi": "Nhập 0 nếu hộ không có nhà ở.", "hint_en": "Enter 0 if the household has no home.",
     "required": "yes", "constraint": ". >= 0 and . <= 10000",
     "constraint_vi": "Diện tích từ 0 đến 10.000 m².",
     "constraint_en": "Floor area between 0 and 10,000 m²."},
    {"type": "end_group", "name": "dim_housing"},

    {"type": "begin_group", "name": "dim_water", "vi": "Nước sinh hoạt và vệ sinh",
     "en": "Water and sanitation", "appearance": "field-list"},
    {"type": "select_one water_source", "name": "q_water_source",
     "vi": "Nguồn nước sinh hoạt chính của hộ", "en": "The household's main source of water",
     "required": "yes"},
    {"type": "select_one latrine_type", "name": "q_latrine", "vi": "Loại nhà tiêu hộ đang dùng",
     "en": "The latrine the household uses", "required": "yes"},
    {"type": "end_group", "name": "dim_water"},

    {"type": "begin_group", "name": "dim_information", "vi": "Thông tin", "en": "Information",
     "appearance": "field-list"},
    {"type": "select_one yes_no", "name": "q_telecom",
     "vi": "Có ai trong hộ dùng thuê bao điện thoại (di động hoặc cố định) hoặc internet không?",
     "en": "Does any member use a phone subscription (mobile or landline) or the internet?",
     "required": "yes"},
    {"type": "select_multiple device", "name": "q_devices",
     "vi": "Hộ có những phương tiện nào sau đây?", "en": "Which of these does the household have?",
     "required": "yes", "constraint": NONE_ALONE, "constraint_vi": NONE_ALONE_VI,
     "constraint_en": NONE_ALONE_EN},
    {"type": "end_group", "name": "dim_information"},

    # One calculate per indicator of the standard: 1 = deprived.
    {"type": "begin_group", "name": "result", "vi": "Kết quả phân loại",
     "en": "Classification result"},
    {"type": "calculate", "name": "employment", "calculation": YES.format("${q_unemployed}"),
     "save_to": "employment"},
    {"type": "calculate", "name": "dependants",
     "calculation": "if(${dependants_count} * 2 > ${hh_size}, 1, 0)", "save_to": "dependants"},
    {"type": "calculate", "name": "nutrition",
     "calculation": YES.format("${q_child_malnourished}"), "save_to": "nutrition"},
    {"type": "calculate", "name": "health_insurance",
     "calculation": YES.format("${q_no_health_insurance}"), "save_to": "health_insurance"},
    {"type": "calculate", "name": "adult_education",
     "calculation": YES.format("${q_adult_undereducated}"), "save_to": "adult_education"},
    {"type": "calculate", "name": "child_schooling",
     "calculation": YES.format("${q_child_out_of_school}"), "save_to": "child_schooling"},
    {"type": "calculate", "name": "housing_quality",
     "calculation": "if(count-selected(${q_non_durable}) >= 2, 1, 0)",
     "save_to": "housing_quality"},
    # Compared as area < 8 x members rather than area / members < 8: no division by zero.
    {"type": "calculate", "name": "floor_area",
     "calculation": "if(${floor_area_m2} < 8 * ${hh_size}, 1, 0)", "save_to": "floor_area"},
    {"type": "calculate", "name": "water",
     "calculation": f"if({any_of('${q_water_source}', CLEAN_WATER)}, 0, 1)", "save_to": "water"},
    {"type": "calculate", "name": "latrine",
     "calculation": f"if({any_of('${q_latrine}', HYGIENIC_LATRINE)}, 0, 1)",
     "save_to": "latrine"},
    {"type": "calculate", "name": "telecom", "calculation": "if(${q_telecom} = 'no', 1, 0)",
     "save_to": "telecom"},
    {"type": "calculate", "name": "information_devices",
     "calculation": "if(count-selected(${q_devices}) = 0 or selected(${q_devices}, 'none'), 1, 0)",
     "save_to": "information_devices"},
    {"type": "calculate", "name": "deprivation_count",
     "calculation": " + ".join(f"${{{i}}}" for i in INDICATORS), "save_to": "deprivation_count"},
    {"type": "calculate", "name": "poor_line", "calculation": per_area("poor")},
    {"type": "calculate", "name": "near_poor_line", "calculation": per_area("near_poor")},
    {"type": "calculate", "name": "average_line", "calculation": per_area("average")},
    {"type": "calculate", "name": "poverty_status", "calculation": POVERTY_STATUS,
     "save_to": "poverty_status"},
    {"type": "calculate", "name": "poverty_standard", "calculation": f"'{STANDARD.id}'",
     "save_to": "poverty_standard"},
    {"type": "calculate", "name": "status_vi",
     "calculation": status_words("${poverty_status}", "vi")},
    {"type": "calculate", "name": "status_en",
     "calculation": status_words("${poverty_status}", "en")},
    {"type": "note", "name": "result_note",
     "vi": f"{STANDARD.title.vi}: **${{status_vi}}**. Số chỉ số thiếu hụt: "
           f"${{deprivation_count}}/{len(INDICATORS)}. Chuẩn nghèo của khu vực: "
           "${poor_line} đồng/người/tháng.",
     "en": f"{STANDARD.title.en}: **${{status_en}}**. Deprivations: "
           f"${{deprivation_count}}/{len(INDICATORS)}. Poverty line for this area: "
           "${poor_line} VND per person per month.",
     "relevant": "${poverty_status} != ''"},
    {"type": "note", "name": "standard_expired",
     "vi": f"Lưu ý: {STANDARD.title.vi} hết hiệu lực sau ngày "
           f"{STANDARD.effective_to:%d/%m/%Y}; kết quả này chỉ để tham khảo.",
     "en": f"Note: the {STANDARD.title.en} ends on {STANDARD.effective_to:%d %B %Y}; "
           "this result is for reference only.",
     "relevant": f"today() > date('{STANDARD.effective_to.isoformat()}')"},
    {"type": "end_group", "name": "result"},
]
