"""`giupho-sync fill` in a real terminal (a pseudo-terminal driven by pexpect): the officer
answers in Vietnamese; relevance, constraints, required answers, choice filters, repeats and
calculations come from the forms engine; the visit is saved to the outbox and pushed."""

from __future__ import annotations

import re

import pexpect
import sqlalchemy as sa

from sync.client import LocalStore, store_path
from tests.integration.sync_client.helpers import photo
from tests.integration.sync_client.terminal import CHOOSE, TEXT, Officer, run_client, spawn


def test_c1_fill_a_registration_in_the_terminal_then_push_it(live_db, tmp_path):
    live, url = live_db
    home = tmp_path / "home"
    run_client(home, "login", live.url, "-u", "cadre_a", "--token", live.world.tokens["cadre_a"])
    assert "Đã nhận" in run_client(home, "pull")
    assert "giupho_household_registration" in run_client(home, "forms")
    picture = tmp_path / "nha.jpg"
    picture.write_bytes(photo(1, 5000))

    child = spawn(home, "fill", "giupho_household_registration")
    officer = Officer(child)
    officer.answer("Tỉnh, thành phố", "1")
    communes = officer.answer("Xã, phường, đặc khu", "2")
    assert "Xã Mường Phăng" in communes
    # Choice filter: only the villages of the chosen commune are offered.
    villages = officer.answer("Thôn, bản, tổ dân phố", "1")
    assert "Bản Phăng 1" in villages and "Bản Khá" in villages
    assert "Bản Nà Tấu 1" not in villages and "Tổ dân phố 1" not in villages
    officer.answer("Khu vực", "2")
    officer.answer("Địa chỉ", "Nhà số 7", TEXT)
    officer.answer("Mã hộ", "", TEXT)
    # Required: an empty name is refused with the form's message, then asked again.
    officer.answer("Họ và tên chủ hộ", "", TEXT)
    officer.told("bắt buộc")
    officer.answer("Họ và tên chủ hộ", "Quàng Văn Thử", TEXT)
    officer.answer("Giới tính", "1")
    officer.answer("Năm sinh", "1985", TEXT)
    # Constraint: a CCCD that does not match sex and birth year is refused.
    officer.answer("Số CCCD của chủ hộ", "001234567890", TEXT)
    officer.told("Số CCCD gồm 12 chữ số")
    officer.answer("Số CCCD của chủ hộ", "011085012345", TEXT)
    # Relevance: "another ethnic group" brings the question that names it.
    officer.answer("Dân tộc", "16")
    officer.answer("Dân tộc khác (ghi rõ)", "Kháng", TEXT)
    officer.answer("Số điện thoại liên hệ", "0912345678", TEXT)
    # Repeat: one more member, then no more.
    officer.answer("Thành viên khác trong hộ", "c", re.escape("(c/k) "))
    officer.answer("Họ và tên", "Lò Thị Thử", TEXT)
    officer.answer("Giới tính", "2")
    officer.answer("Năm sinh", "1987", TEXT)
    officer.answer("Quan hệ với chủ hộ", "1")
    officer.answer("Số CCCD", "", TEXT)
    officer.answer("Thành viên khác trong hộ", "k", re.escape("(c/k) "))
    officer.answer("Thu nhập bình quân đầu người", "900000", TEXT)
    for question in ("thất nghiệp", "Số người phụ thuộc", "suy dinh dưỡng", "bảo hiểm y tế",
                     "16–30 tuổi", "3–15 tuổi"):  # fmt: skip
        officer.answer(question, "0" if question == "Số người phụ thuộc" else "2",
                       TEXT if question == "Số người phụ thuộc" else CHOOSE)  # fmt: skip
    officer.answer("vật liệu không bền chắc", "4", "Chọn các số, cách nhau bằng dấu cách: ")
    officer.answer("Tổng diện tích nhà ở", "40", TEXT)
    officer.answer("Nguồn nước sinh hoạt", "1")
    officer.answer("nhà tiêu", "1")
    officer.answer("thuê bao điện thoại", "1")
    officer.answer("phương tiện nào", "1 4", "Chọn các số, cách nhau bằng dấu cách: ")
    # Calculation: the classification computed by the form from the answers so far.
    officer.told("Chuẩn nghèo đa chiều")
    child.expect(re.escape("Số chỉ số thiếu hụt"))
    shown_status = child.before
    officer.answer("Vị trí nhà (GPS)", "", TEXT)
    officer.answer("Ảnh chụp nhà", str(picture), "để trống nếu không có\\): ")
    officer.told("Đã lưu vào hộp thư đi")
    child.expect(pexpect.EOF)
    child.close()
    assert child.exitstatus == 0

    store = LocalStore(store_path(home, live.url, "cadre_a"))
    (saved,) = store.pending()
    store.close()
    answers = saved.item["answers"]
    assert answers["head"]["head_name"] == "Quàng Văn Thử"
    assert answers["head"]["ethnicity_other"] == "Kháng"
    assert [m["member_name"] for m in answers["member"]] == ["Lò Thị Thử"]
    # 900,000 đồng a month in a rural commune is under the poor line (1,500,000), with no
    # deprivation: near poor under the 2022-2026 standard, as the form computes it.
    assert answers["result"]["deprivation_count"] == "0"
    assert answers["result"]["poverty_status"] == "near_poor"
    assert f"**{answers['result']['status_vi']}**" in shown_status

    assert "1 accepted" in run_client(home, "--lang", "en", "push")
    engine = sa.create_engine(url)
    with engine.connect() as conn:
        state, issues = conn.execute(
            sa.text("SELECT review_state, issues FROM submissions WHERE instance_id = :i"),
            {"i": saved.instance_id},
        ).one()
        sizes = conn.execute(
            sa.text("SELECT a.filename, a.size FROM attachments a JOIN submissions s"
                    " ON s.id = a.submission_id WHERE s.instance_id = :i"),
            {"i": saved.instance_id},
        ).all()  # fmt: skip
    engine.dispose()
    assert state == "received", issues  # valid against its form: no issue on the server
    assert sizes == [("nha.jpg", 5000)]
