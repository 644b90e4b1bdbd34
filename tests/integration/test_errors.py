"""Errors: one JSON shape from one catalogue, in Vietnamese or English, never a stack trace."""

from __future__ import annotations

import io
import re

import pytest
from flask import Blueprint

from server.models import Role
from server.problems import CATALOGUE, N_, Problem, placeholders
from tests.integration.helpers import basic

SHAPE = {"code", "message", "details"}


def test_catalogue_codes_match_their_status_and_have_both_languages():
    for code, entry in CATALOGUE.items():
        assert re.fullmatch(r"[45]\d\d\.\d+", code)
        assert int(code.split(".")[0]) == entry.status
        # The Vietnamese comes from the gettext catalogue, and names the same facts.
        assert entry.message and entry.message_vi and entry.message != entry.message_vi
        assert placeholders(entry.message) == placeholders(entry.message_vi), code


def test_a_problem_renders_in_the_language_it_is_asked_for_outside_any_request():
    problem = Problem("404.3", form_id="ho_gia_dinh")
    assert problem.message("en") == "Form 'ho_gia_dinh' was not found."
    assert problem.message("vi") == "Không tìm thấy biểu mẫu 'ho_gia_dinh'."
    assert str(problem) == "[404.3] Form 'ho_gia_dinh' was not found."


def test_a_callers_own_vietnamese_param_still_renders_in_both_languages():
    """Callers may pass `<name>_vi` beside `<name>` (the services still do)."""
    problem = Problem("409.5", what="User", what_vi="Người dùng", name="hoa")
    assert problem.message("en") == "User 'hoa' already exists."
    assert problem.message("vi") == "Người dùng 'hoa' đã tồn tại."
    refused = Problem("400.9", reason="outside your area.", reason_vi="ngoài địa bàn.")
    assert refused.to_dict("vi")["message"] == "Bản gửi bị từ chối: ngoài địa bàn."
    assert refused.to_dict("en")["message"] == "The submission was refused: outside your area."


def test_a_param_marked_for_translation_is_translated_with_the_message():
    """The refusal of a duplicate decision names the state and the action in the message's
    language: "merged" is one English word but two Vietnamese ones (a state, an action)."""
    problem = Problem(
        "409.10",
        what=N_("Duplicate case %(case_id)s"),
        case_id=7,
        state=N_("duplicate_state.merged"),
        action=N_("duplicate_action.merge"),
    )
    assert problem.message("en") == (
        "Duplicate case 7 is merged, so it cannot be merged. Reload it to see its current state."
    )
    assert problem.message("vi").startswith(
        "Trường hợp trùng hộ 7 đang ở trạng thái đã gộp nên không thể gộp."
    )


def test_a_problem_quoted_by_a_message_is_in_its_language():
    from server.services.review.decisions import ReviewRefused

    refused = ReviewRefused(
        N_("The correction was not stored: %(problem)s"),
        problem=Problem("400.3", field="age", reason="not a number"),
    )
    assert refused.message("en") == (
        "The correction was not stored: The value of 'age' is not valid: not a number"
    )
    assert refused.message("vi") == (
        "Không lưu được bản sửa: Giá trị của 'age' không hợp lệ: not a number"
    )


def test_unknown_code_is_a_programming_error():
    with pytest.raises(KeyError):
        Problem("499.9")


def test_unknown_route_is_404_1_in_the_one_shape(client):
    response = client.get("/api/v1/nothing-here", headers={"Accept-Language": "en"})
    assert response.status_code == 404
    assert response.is_json and set(response.json) == SHAPE
    assert response.json["code"] == "404.1"
    assert response.json["message"] == "Nothing was found at this address."


def test_messages_follow_accept_language_and_default_to_vietnamese(client):
    vi = client.get("/api/v1/nothing-here").json["message"]
    en = client.get("/api/v1/nothing-here", headers={"Accept-Language": "en-GB,en;q=0.8"})
    assert vi == "Không tìm thấy nội dung tại địa chỉ này."
    assert en.json["message"] == "Nothing was found at this address."
    assert en.headers["Content-Language"] == "en"


def test_wrong_method_is_405_1_with_allow_header(client):
    response = client.delete("/api/v1/health", headers={"Accept-Language": "en"})
    assert response.status_code == 405
    assert response.json["code"] == "405.1"
    assert "DELETE" in response.json["message"]
    assert "GET" in response.headers["Allow"]


def test_a_crash_is_500_1_logged_and_without_trace(app, caplog):
    boom = Blueprint("boom", __name__)

    @boom.get("/boom")
    def explode():
        raise RuntimeError("secret internals: password=hunter2")

    app.register_blueprint(boom)
    response = app.test_client().get("/boom")
    assert response.status_code == 500
    assert set(response.json) == SHAPE and response.json["code"] == "500.1"
    body = response.get_data(as_text=True)
    assert "hunter2" not in body and "Traceback" not in body and "RuntimeError" not in body
    assert "secret internals" in caplog.text  # the operator still gets the whole story


def test_problem_details_reach_the_client(app):
    bp = Blueprint("conflict", __name__)

    @bp.get("/conflict")
    def conflict():
        raise Problem("409.3", details={"instance_id": "uuid:1"}, instance_id="uuid:1")

    app.register_blueprint(bp)
    response = app.test_client().get("/conflict", headers={"Accept-Language": "vi"})
    assert response.status_code == 409
    assert response.json == {
        "code": "409.3",
        "message": "Máy chủ đã nhận một bản gửi khác có cùng mã (uuid:1). Dữ liệu của bạn đã "
        "được giữ lại để xem xét, đừng gửi lại.",
        "details": {"instance_id": "uuid:1"},
    }


def test_oversize_request_is_413_1(app, make_user):
    make_user("quantri", Role.ADMIN)
    app.config["MAX_CONTENT_LENGTH"] = 100
    response = app.test_client().post(
        "/api/v1/forms",
        headers=basic("quantri"),
        data={"file": (io.BytesIO(b"x" * 1000), "f.xlsx")},
    )
    assert response.status_code == 413
    assert response.json["code"] == "413.1" and "100" in response.json["message"]
