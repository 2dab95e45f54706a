from django.conf import settings
from django.db import models
from django.utils.translation import gettext_lazy as _
from knox.models import AuthToken


class ApiToken(AuthToken):
    """The API tokens (django-rest-knox's rows, access.tokens), listed in the back office under the
    staff logins in its words: who holds one, since when, until when; deleting one revokes it."""

    class Meta:
        proxy = True
        verbose_name = _("API token")
        verbose_name_plural = _("API tokens")


class LanguagePreference(models.Model):
    """The language a staff user chose for the back office (access.languages): kept on the account, so it
    follows them to another browser; set by the language switcher, applied at login."""

    user = models.OneToOneField(settings.AUTH_USER_MODEL, on_delete=models.CASCADE, primary_key=True,
                                related_name="language_preference", verbose_name=_("user"))
    language = models.CharField(_("language"), max_length=16)
    updated_at = models.DateTimeField(_("updated at"), auto_now=True)

    class Meta:
        verbose_name = _("language preference")
        verbose_name_plural = _("language preferences")

    def __str__(self) -> str:
        return f"{self.user_id}: {self.language}"
