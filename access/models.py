from django.utils.translation import gettext_lazy as _
from knox.models import AuthToken


class ApiToken(AuthToken):
    """The API tokens (django-rest-knox's rows, access.tokens), listed in the back office under the
    staff logins in its words: who holds one, since when, until when; deleting one revokes it."""

    class Meta:
        proxy = True
        verbose_name = _("API token")
        verbose_name_plural = _("API tokens")
