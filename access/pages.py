"""The back office's refusal pages, in its look and the reader's language: a page the user may not see
(403, the ``handler403`` of config.urls) and a form whose security token did not match (Django's
CSRF_FAILURE_VIEW: an old tab, a login page left open past a logout)."""

from django.contrib import admin
from django.template.response import TemplateResponse
from django.utils.translation import gettext as _


def forbidden(request, exception=None):
    return _refusal(request, _("You may not open this page"), csrf=False)


def csrf_failure(request, reason=""):
    return _refusal(request, _("This form has expired"), csrf=True)


def _refusal(request, title, *, csrf: bool) -> TemplateResponse:
    context = {**admin.site.each_context(request), "title": title, "csrf": csrf}
    response = TemplateResponse(request, "403.html", context, status=403)
    return response.render()
