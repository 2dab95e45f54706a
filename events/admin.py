"""Webhooks in the admin, for administrators only (events.screens.is_webhook_admin): the shops' endpoints,
every delivery and attempt, and the outbox. Every change goes through events.services; the pages only
parse, call and show.

- A secret is shown once, in the page that answers the act that made it (adding an endpoint, rotating its
  secret), never in a message (messages may live in a cookie), a log line or the admin's history; the page
  is not cached. Afterwards the endpoint's page shows it masked.
- Each act on the endpoint's page is its own form, so Enter submits that act and nothing else; rotating
  and resending ask first on a page of their own.
"""

from django.conf import settings
from django.contrib import admin, messages
from django.contrib.admin import helpers
from django.contrib.admin.utils import unquote
from django.core.exceptions import PermissionDenied
from django.db.models import OuterRef, Subquery
from django.shortcuts import get_object_or_404, redirect
from django.template.response import TemplateResponse
from django.urls import path, reverse
from django.utils import timezone
from django.utils.cache import patch_cache_control
from django.utils.formats import date_format
from django.utils.html import format_html
from django.utils.translation import gettext, ngettext
from django.utils.translation import gettext_lazy as _
from django.views.decorators.http import require_POST

from aftersales import clock
from aftersales.admin import CappedCountPaginator, ReadOnlyAdmin, ReadOnlyInline
from aftersales.errors import DomainError
from events import catalogue, services
from events.forms import AddEndpointForm, ChangeEndpointForm, ResendFromForm
from events.models import Attempt, Delivery, Endpoint, Event
from events.screens import is_webhook_admin
from tickets.presenters import short_time

LATEST_ATTEMPTS = 20
MASKED_SECRET = "whsec_" + "•" * 12


def _refuse(form, exc: DomainError) -> None:
    """The service's refusal on the form, beside the field it names; what was typed stays."""
    form.add_error(exc.field if exc.field in form.fields else None, exc.detail)


def _minute(moment) -> str:
    return date_format(timezone.localtime(moment), "Y-m-d H:i")


def endpoint_state(endpoint: Endpoint) -> str:
    """Delivering, failing since when, disabled by the system (since when, why), or paused by a person."""
    if endpoint.disabled_at:
        return gettext("disabled since %(when)s: %(why)s") % {"when": _minute(endpoint.disabled_at),
                                                              "why": endpoint.disabled_reason}
    if not endpoint.active:
        return gettext("not active")
    if endpoint.failing_since:
        return gettext("failing since %(when)s") % {"when": _minute(endpoint.failing_since)}
    return gettext("delivering")


class WebhookAdministratorsOnly:
    """The records behind the endpoints are read by whoever administers the endpoints, and by nobody else."""

    def has_view_permission(self, request, obj=None):
        return is_webhook_admin(request.user)

    def has_module_permission(self, request):
        return is_webhook_admin(request.user)


class EventTypeFilter(admin.SimpleListFilter):
    """The catalogue's types (a list of the rows' distinct values would read the whole table)."""

    title = _("type")
    parameter_name = "type"
    field = "type"

    def lookups(self, request, model_admin):
        return [(code, code) for code in catalogue.TYPES]

    def queryset(self, request, queryset):
        return queryset.filter(**{self.field: self.value()}) if self.value() else queryset


class DeliveryTypeFilter(EventTypeFilter):
    field = "event__type"


class AttemptTypeFilter(EventTypeFilter):
    field = "event_type"

    def lookups(self, request, model_admin):
        return [*super().lookups(request, model_admin), (catalogue.TEST_TYPE, catalogue.TEST_TYPE)]


@admin.register(Endpoint)
class EndpointAdmin(admin.ModelAdmin):
    """The shops' endpoints: the list with each one's state, and a page of its own (events/templates)."""

    list_display = ["url", "shop", "types_shown", "active", "state", "last_attempt"]
    list_filter = ["shop", "active"]
    search_fields = ["url", "=shop__code"]
    list_select_related = ["shop"]
    ordering = ["shop__code", "url"]

    class Media:
        css = {"all": ["events/endpoint.css"]}

    def get_queryset(self, request):
        last = Attempt.objects.filter(endpoint=OuterRef("pk")).order_by("-at").values("at")[:1]
        return super().get_queryset(request).annotate(last_attempt_at=Subquery(last))

    def has_delete_permission(self, request, obj=None):
        return False  # its deliveries and attempts are kept: make it not active instead

    def has_test_permission(self, request):
        return request.user.has_perm("events.send_webhook_test")

    def has_resend_permission(self, request):
        return request.user.has_perm("events.resend_webhook")

    @admin.display(description=_("event types"))
    def types_shown(self, endpoint):
        return ", ".join(endpoint.event_types) if endpoint.event_types else gettext("every type")

    @admin.display(description=_("state"))
    def state(self, endpoint):
        text = endpoint_state(endpoint)
        css = "disabled" if endpoint.disabled_at else "failing" if endpoint.failing_since else "ok"
        return format_html('<span class="endpoint-state {}">{}</span>', css, text)

    @admin.display(description=_("last attempt"), ordering="last_attempt_at")
    def last_attempt(self, endpoint):
        return short_time(endpoint.last_attempt_at)

    # ------------------------------------------------------------------------------------------ pages

    def get_urls(self):
        view = self.admin_site.admin_view
        return [
            path("<int:endpoint_id>/rotate/", view(self.rotate_view), name="events_endpoint_rotate"),
            path("<int:endpoint_id>/test/", view(require_POST(self.test_view)), name="events_endpoint_test"),
            path("<int:endpoint_id>/enable/", view(require_POST(self.enable_view)), name="events_endpoint_enable"),
            path("<int:endpoint_id>/resend-from/", view(self.resend_from_view), name="events_endpoint_resend_from"),
            *super().get_urls(),
        ]

    def _context(self, request, **extra):
        return {**self.admin_site.each_context(request), "opts": self.opts, "app_label": self.opts.app_label,
                "has_view_permission": True, **extra}

    @staticmethod
    def _adminform(form, fields, name=None):
        return helpers.AdminForm(form, [(name, {"fields": fields})], {})

    def add_view(self, request, form_url="", extra_context=None):
        """The new endpoint and, in the answer itself, its secret (once)."""
        if not self.has_add_permission(request):
            raise PermissionDenied
        form = AddEndpointForm(request.POST if request.method == "POST" else None)
        if form.is_bound and form.is_valid():
            data = form.cleaned_data
            try:
                endpoint, secret = services.register_endpoint(
                    shop=data["shop"], url=data["url"], event_types=data["event_types"],
                    description=data["description"])
            except DomainError as exc:
                _refuse(form, exc)
            else:
                self.log_addition(request, endpoint, [{"added": {}}])
                return self._secret_page(request, endpoint, secret, rotated=False)
        return TemplateResponse(request, "admin/events/endpoint/add.html", self._context(
            request, title=gettext("Add webhook endpoint"), form=form,
            adminform=self._adminform(form, ["shop", "url", "description", "event_types"])))

    def _secret_page(self, request, endpoint, secret: str, *, rotated: bool):
        response = TemplateResponse(request, "admin/events/endpoint/secret.html", self._context(
            request, title=gettext("The new secret: copy it now") if rotated else gettext(
                "Endpoint added: copy its secret now"),
            endpoint=endpoint, secret=secret, rotated=rotated, grace_hours=settings.WEBHOOK_SECRET_GRACE_HOURS))
        patch_cache_control(response, no_store=True, no_cache=True, private=True)
        return response

    def change_view(self, request, object_id, form_url="", extra_context=None):
        """The endpoint's page: its state, its settings, the acts on it, and its latest attempts."""
        endpoint = self.get_object(request, unquote(object_id))
        if endpoint is None:
            return self._get_obj_does_not_exist_redirect(request, self.opts, object_id)
        if not self.has_view_or_change_permission(request, endpoint):
            raise PermissionDenied
        can_change = self.has_change_permission(request, endpoint)
        if request.method == "POST" and not can_change:
            raise PermissionDenied
        initial = {"url": endpoint.url, "description": endpoint.description, "event_types": endpoint.event_types,
                   "active": endpoint.active}
        form = ChangeEndpointForm(request.POST if request.method == "POST" else None, initial=initial)
        if form.is_bound and form.is_valid():
            try:
                services.change_endpoint(endpoint_id=endpoint.pk, **form.cleaned_data)
            except DomainError as exc:
                _refuse(form, exc)
            else:
                self.log_change(request, endpoint, [{"changed": {"fields": form.changed_data}}])
                self.message_user(request, gettext("The endpoint was saved."), messages.SUCCESS)
                return redirect(request.path)
        if not can_change:
            for field in form.fields.values():
                field.disabled = True
        attempts = list(endpoint.attempts.select_related("by").order_by("-at", "-pk")[:LATEST_ATTEMPTS])
        now_valid_previous = (endpoint.previous_secret and endpoint.previous_secret_expires_at
                              and endpoint.previous_secret_expires_at > clock.now())
        return TemplateResponse(request, "admin/events/endpoint/endpoint.html", self._context(
            request, title=endpoint.url, original=endpoint, form=form, can_change=can_change,
            adminform=self._adminform(form, ["url", "description", "event_types", "active"], gettext("Settings")),
            state=endpoint_state(endpoint), masked_secret=MASKED_SECRET,
            previous_until=endpoint.previous_secret_expires_at if now_valid_previous else None,
            can_test=self.has_test_permission(request), can_resend=self.has_resend_permission(request),
            resend_form=ResendFromForm(), attempts=attempts,
            all_attempts_url=f"{reverse('admin:events_attempt_changelist')}?endpoint__id__exact={endpoint.pk}",
            deliveries_url=f"{reverse('admin:events_delivery_changelist')}?endpoint__id__exact={endpoint.pk}"))

    def _endpoint(self, request, endpoint_id, *, permission) -> Endpoint:
        if not permission(request):
            raise PermissionDenied
        return get_object_or_404(Endpoint.objects.select_related("shop"), pk=endpoint_id)

    def _back(self, endpoint):
        return redirect("admin:events_endpoint_change", endpoint.pk)

    def rotate_view(self, request, endpoint_id):
        """Asked first; done, the new secret on the answer's page (once)."""
        endpoint = self._endpoint(request, endpoint_id, permission=self.has_change_permission)
        if request.method == "POST":
            endpoint, secret = services.rotate_secret(endpoint_id=endpoint.pk)
            self.log_change(request, endpoint, [{"changed": {"fields": ["secret"]}}])
            return self._secret_page(request, endpoint, secret, rotated=True)
        return TemplateResponse(request, "admin/events/endpoint/rotate.html", self._context(
            request, title=gettext("Rotate the secret?"), original=endpoint,
            grace_hours=settings.WEBHOOK_SECRET_GRACE_HOURS))

    def test_view(self, request, endpoint_id):
        """POSTs a test event now; what came of it in a message and at the top of the attempts."""
        endpoint = self._endpoint(request, endpoint_id, permission=self.has_test_permission)
        answer = services.send_test_event(endpoint_id=endpoint.pk, actor=request.user)
        values = {"status": answer.status or "—", "ms": answer.latency_ms, "error": answer.error}
        if answer.ok:
            self.message_user(request, gettext("Test event delivered: HTTP %(status)s in %(ms)d ms.") % values,
                              messages.SUCCESS)
        else:
            self.message_user(request, gettext(
                "Test event not delivered: %(error)s (HTTP %(status)s, %(ms)d ms).") % values, messages.ERROR)
        return self._back(endpoint)

    def enable_view(self, request, endpoint_id):
        endpoint = self._endpoint(request, endpoint_id, permission=self.has_change_permission)
        services.enable_endpoint(endpoint_id=endpoint.pk)
        self.log_change(request, endpoint, [{"changed": {"fields": ["active"]}}])
        self.message_user(request, gettext(
            "The endpoint is enabled again. Its failed deliveries stay failed: resend them."), messages.SUCCESS)
        return self._back(endpoint)

    def resend_from_view(self, request, endpoint_id):
        """The position typed, then a page that says how many events go again, and asks."""
        endpoint = self._endpoint(request, endpoint_id, permission=self.has_resend_permission)
        form = ResendFromForm(request.POST if request.method == "POST" else None)
        if form.is_bound and form.is_valid():
            position = form.cleaned_data["position"]
            if request.POST.get("confirmed") == "yes":
                try:
                    count = services.resend_from(endpoint_id=endpoint.pk, position=position)
                except DomainError as exc:
                    _refuse(form, exc)
                else:
                    self.message_user(request, ngettext(
                        "%(n)d event from position %(position)d queued again.",
                        "%(n)d events from position %(position)d queued again.", count) % {
                        "n": count, "position": position}, messages.SUCCESS)
                    return self._back(endpoint)
            count = _events_from(endpoint, position).count()
            return TemplateResponse(request, "admin/events/endpoint/resend_from.html", self._context(
                request, title=gettext("Resend everything from position %(position)d?") % {"position": position},
                original=endpoint, form=form, position=position, count=count, confirming=form.is_valid()))
        return TemplateResponse(request, "admin/events/endpoint/resend_from.html", self._context(
            request, title=gettext("Resend from a position"), original=endpoint, form=form, confirming=False))


def _events_from(endpoint: Endpoint, position: int):
    """What resend_from queues: the shop's events from ``position`` on that the endpoint wants."""
    events = Event.objects.filter(shop_id=endpoint.shop_id, position__gte=position)
    return events.filter(type__in=endpoint.event_types) if endpoint.event_types else events


class AttemptInline(ReadOnlyInline):
    model = Attempt
    fk_name = "delivery"
    fields = readonly_fields = ["at", "status_code", "latency_ms", "error", "response_excerpt", "by"]
    ordering = ["-at", "-pk"]
    verbose_name_plural = _("attempts")


@admin.register(Delivery)
class DeliveryAdmin(WebhookAdministratorsOnly, ReadOnlyAdmin):
    """Every event to every endpoint; resending a selection asks first."""

    list_display = ["event_type", "ticket_no", "position", "endpoint", "status", "attempts", "next_attempt",
                    "last_error"]
    list_filter = ["endpoint", "status", DeliveryTypeFilter]
    search_fields = ["=event__ticket_no"]
    search_help_text = _("a ticket no")
    list_select_related = ["event", "endpoint"]
    ordering = ["-position", "-pk"]
    show_full_result_count = False
    paginator = CappedCountPaginator
    actions = ["resend_selected"]
    inlines = [AttemptInline]
    fields = readonly_fields = ["event", "endpoint", "position", "status", "attempts", "first_attempt_at",
                                "next_attempt_at", "delivered_at", "last_error", "created_at"]

    def has_resend_permission(self, request):
        return request.user.has_perm("events.resend_webhook")

    @admin.display(description=_("type"), ordering="event__type")
    def event_type(self, delivery):
        return delivery.event.type

    @admin.display(description=_("ticket no"), ordering="event__ticket_no")
    def ticket_no(self, delivery):
        return delivery.event.ticket_no or "—"

    @admin.display(description=_("next attempt"), ordering="next_attempt_at")
    def next_attempt(self, delivery):
        return short_time(delivery.next_attempt_at)

    @admin.action(description=_("Resend selected…"), permissions=["resend"])
    def resend_selected(self, request, queryset):
        """Its own page first: which deliveries go again, to which endpoints; then they are queued."""
        if request.POST.get("confirmed") != "yes":
            return TemplateResponse(request, "admin/events/delivery/resend.html", {
                **self.admin_site.each_context(request), "title": gettext("Resend these deliveries?"),
                "opts": self.opts, "deliveries": queryset.select_related("event", "endpoint").order_by("position"),
                "selected": request.POST.getlist(helpers.ACTION_CHECKBOX_NAME)})
        count = services.resend(delivery_ids=queryset.values_list("pk", flat=True))
        self.message_user(request, ngettext("%(n)d delivery queued again.", "%(n)d deliveries queued again.",
                                            count) % {"n": count}, messages.SUCCESS)
        return None


@admin.register(Attempt)
class AttemptAdmin(WebhookAdministratorsOnly, ReadOnlyAdmin):
    """Every POST as it happened: read, never added, changed or deleted (the table refuses it too)."""

    list_display = ["at_shown", "endpoint", "event_type", "webhook_id", "status_code", "latency_ms", "error",
                    "excerpt"]
    list_filter = ["endpoint", "ok", AttemptTypeFilter]
    search_fields = ["=webhook_id"]
    list_select_related = ["endpoint"]
    ordering = ["-at", "-pk"]
    show_full_result_count = False
    paginator = CappedCountPaginator
    fields = readonly_fields = ["at", "endpoint", "delivery", "event_type", "webhook_id", "status_code",
                                "latency_ms", "ok", "error", "response_excerpt", "by"]

    @admin.display(description=_("at"), ordering="at")
    def at_shown(self, attempt):
        return short_time(attempt.at)

    @admin.display(description=_("response"))
    def excerpt(self, attempt):
        text = attempt.response_excerpt
        return (text[:80] + "…") if len(text) > 80 else (text or "—")


@admin.register(Event)
class EventAdmin(WebhookAdministratorsOnly, ReadOnlyAdmin):
    """The outbox as it was written: nothing here is edited."""

    list_display = ["position", "type", "ticket_no", "shop", "occurred"]
    list_filter = [EventTypeFilter, "shop"]
    search_fields = ["=ticket_no"]
    search_help_text = _("a ticket no")
    list_select_related = ["shop"]
    ordering = ["-position", "-pk"]
    show_full_result_count = False
    paginator = CappedCountPaginator
    fields = readonly_fields = ["uuid", "position", "type", "ticket_no", "shop", "occurred_at", "sequenced_at",
                                "data"]

    @admin.display(description=_("occurred at"), ordering="occurred_at")
    def occurred(self, event):
        return short_time(event.occurred_at)
