from django.conf import settings
from django.db import models
from django.utils.translation import gettext_lazy as _


class IdempotencyKey(models.Model):
    """A creating POST's key, its request fingerprint and the response it got (kept ≥ 24 h)."""

    user = models.ForeignKey(settings.AUTH_USER_MODEL, verbose_name=_("user"), on_delete=models.CASCADE)
    key = models.CharField(_("key"), max_length=255)
    scope = models.CharField(_("scope"), max_length=200, help_text=_("method and path"))
    request_hash = models.CharField(_("request hash"), max_length=64)
    response_status = models.PositiveSmallIntegerField(_("response status"), null=True)
    response_body = models.JSONField(_("response body"), null=True)
    created_at = models.DateTimeField(_("created at"), auto_now_add=True, db_index=True)

    class Meta:
        verbose_name = _("idempotency key")
        verbose_name_plural = _("idempotency keys")
        constraints = [models.UniqueConstraint(fields=["user", "scope", "key"], name="idempotency_key_once")]


class ListColumns(models.Model):
    """A user's columns for one admin list: which, in what order, how many stay in place while the rest
    scroll (aftersales.preferences)."""

    user = models.ForeignKey(settings.AUTH_USER_MODEL, verbose_name=_("user"), on_delete=models.CASCADE,
                             related_name="+")
    list_name = models.CharField(_("list"), max_length=64)
    columns = models.JSONField(_("columns"), default=list)
    frozen = models.PositiveSmallIntegerField(_("frozen columns"), default=0)
    updated_at = models.DateTimeField(_("updated at"), auto_now=True)

    class Meta:
        verbose_name = _("list columns")
        verbose_name_plural = _("list columns")
        constraints = [models.UniqueConstraint(fields=["user", "list_name"], name="one_column_choice_per_list")]


class SavedView(models.Model):
    """A user's named view of an admin list: its filters, search and order (the list's query string) and
    its columns; at most one per list is the user's default, opened when the list is opened bare
    (aftersales.preferences)."""

    user = models.ForeignKey(settings.AUTH_USER_MODEL, verbose_name=_("user"), on_delete=models.CASCADE,
                             related_name="+")
    list_name = models.CharField(_("list"), max_length=64)
    name = models.CharField(_("name"), max_length=80)
    query = models.CharField(_("filters and order"), max_length=2000, blank=True)
    columns = models.JSONField(_("columns"), default=list, blank=True)
    frozen = models.PositiveSmallIntegerField(_("frozen columns"), default=0)
    is_default = models.BooleanField(_("opens by default"), default=False)
    updated_at = models.DateTimeField(_("updated at"), auto_now=True)

    class Meta:
        verbose_name = _("saved view")
        verbose_name_plural = _("saved views")
        constraints = [
            models.UniqueConstraint(fields=["user", "list_name", "name"], name="saved_view_name_once"),
            models.UniqueConstraint(fields=["user", "list_name"], condition=models.Q(is_default=True),
                                    name="one_default_view_per_list"),
        ]

    def __str__(self):
        return self.name
