"""The page a cadre lands on (issue 20, point 6): the review actions are not theirs, so instead
of a refusal they read what they can do (collect with their tablet or `giupho-sync`, where
their households are) and which units and households are theirs. Any signed-in user may open
it: it shows only their own account and scope."""

from __future__ import annotations

from flask import render_template, request

from server.models import Role
from server.services.review import pages as review_pages
from server.web.auth import sign_in_page, signed_in_user
from server.web.site import bp


@bp.get("/me")
def my_work():
    user = signed_in_user()
    if user is None:
        return sign_in_page(status=401)
    return render_template(
        "my_work.html",
        me=user,
        cadre=user.role == Role.CADRE,
        units=sorted(user.units, key=lambda u: u.path or ""),
        households=review_pages.households_in_scope(user),
        server_url=request.host_url.rstrip("/"),
    )
