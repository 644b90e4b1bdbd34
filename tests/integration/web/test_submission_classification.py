"""A submission's page for a reviewer (issue 20, point 2): the classification the server
computed, in words, and after a decision the next submission of the same queue."""

from __future__ import annotations

import re

from tests.integration.web.site import Site


def _section(page: str, name: str) -> str:
    return page.split(f'id="{name}"')[1].split("</section>")[0]


def test_the_classification_section_says_what_the_server_decided_and_why(site: Site, browser_of):
    browser = browser_of("official_a")
    page = browser.get(f"/review/submissions/{site.a[0]}").get_data(as_text=True)
    shown = _section(page, "classification")
    # The registration: 1.200.000 đ a person in a rural commune, no deprivation, on 2026-03-01.
    assert 'data-status="near_poor"' in shown and "hộ cận nghèo" in shown
    assert "giai đoạn 2022–2026" in shown  # the standard in force on the assessment date
    assert "0 trên 12, ngưỡng 3" in shown
    assert "1.200.000 đ" in shown and "1.500.000 đ" in shown
    indicators = _section(page, "classification").split('id="classification-indicators"')[1]
    assert indicators.count("Không thiếu hụt") == 12 and "dim_" not in shown
    assert re.search(r"<li>Thu nhập bình quân 1\.200\.000 đồng[^<]*chuẩn nghèo", shown)


def test_after_a_decision_the_page_offers_the_next_submission_of_the_same_queue(
    site: Site, browser_of
):
    browser = browser_of("official_a")
    queue = browser.get(f"/review/submissions?state=received&commune={site.commune_a_id}")
    assert f"/review/submissions/{site.a[0]}?" in queue.get_data(as_text=True)
    queue_args = {"state": "received", "commune": str(site.commune_a_id)}
    browser.post(f"/review/submissions/{site.a[0]}/decision", {"decision": "approve", **queue_args})
    following = _section(browser.followed, "next")
    assert f"/review/submissions/{site.a[1]}" in following and "Quàng Thị Hai" in following
    assert site.b[0] not in following  # never another commune's submission
    # Following the link and deciding empties the queue: the page says so.
    browser.get(re.search(r'href="([^"]+)"', following).group(1).replace("&amp;", "&"))
    browser.post(f"/review/submissions/{site.a[1]}/decision", {"decision": "reject", **queue_args})
    assert "Không còn hồ sơ nào chờ quyết định" in _section(browser.followed, "next")
    assert site.b[0] not in browser.followed


def test_a_province_reviewer_is_led_only_within_the_submissions_commune(site: Site, browser_of):
    """Scope: the province's coordinator sees communes A and B (B's submission is the newest),
    yet the next after a commune-A decision is commune A's, even when the form names B."""
    browser = browser_of("coordinator")
    data = {"decision": "approve", "commune": str(site.commune_b_id)}
    browser.post(f"/review/submissions/{site.a[0]}/decision", data)
    following = _section(browser.followed, "next")
    assert f"/review/submissions/{site.a[1]}" in following and site.b[0] not in following
