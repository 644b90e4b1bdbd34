"""Records named for people (issue 20, point 2): the review queue and a submission's page name
the household (its head) and link to it, not the instance's UUID."""

from __future__ import annotations

import re

from tests.integration.web.site import Site


def test_the_queue_and_a_submission_name_the_household(full_site: Site, browser_of):
    browser = browser_of("official_a")
    body = browser.get("/review/submissions").get_data(as_text=True)
    queue = body.split('id="queue"')[1].split("</table>")[0]
    first = queue.split(f'data-instance="{full_site.a[0]}"')[1].split("</tr>")[0]
    link = re.search(r'<a href="[^"]+">([^<]+)</a>', first).group(1)
    assert link.startswith("Lò Văn Một") and "uuid:" not in link
    page = browser.get(f"/review/submissions/{full_site.a[0]}").get_data(as_text=True)
    heading = page.split("<h1>")[1].split("</h1>")[0]
    assert "Lò Văn Một" in heading and full_site.households_a[0] in heading
