"""Reasons in the admin (SPEC §7): edit, show/hide and reorder in the list; deleting goes through
delete_or_retire_reason, so a reason in use is retired instead of lost. Order and visibility, typed in the list
or in the change form, are changed by the reason services (place_reason, set_reason_visibility), never saved
around them; their refusals show beside the field, keeping what was typed. The list also reorders by dragging a
row and by its "up" / "down" buttons (move_reason_beside): both post the small move form of the list's
template (reasons/templates/admin/reasons/reason/change_list.html), never the list's own form, so Enter in
a typed number still saves the list."""

from django import forms
from django.contrib import admin, messages
from django.contrib.admin.actions import delete_selected as django_delete_selected
from django.contrib.admin.options import IS_POPUP_VAR
from django.contrib.admin.templatetags.admin_urls import add_preserved_filters
from django.core.exceptions import PermissionDenied, ValidationError
from django.http import HttpResponseRedirect
from django.urls import path, reverse
from django.utils.html import format_html
from django.utils.http import url_has_allowed_host_and_scheme
from django.utils.text import capfirst
from django.utils.translation import gettext_lazy as _

from aftersales.admin import YesNoFilter
from aftersales.errors import DomainError
from aftersales.vocabulary import TicketType
from reasons.models import Reason
from reasons.services import (
    DELETED,
    ORDER_STEP,
    RETIRED,
    check_display_order,
    check_reason_visibility,
    delete_or_retire_reason,
    move_reason_beside,
    place_reason,
    restore_reason,
    retire_reason,
    set_reason_visibility,
)

# Changed through the services only (see ReasonAdmin.save_model).
ORDER_AND_VISIBILITY = ("display_order", "is_visible")


class RetiredFilter(YesNoFilter):
    title = _("retired")
    parameter_name = "retired"
    field = "retired_at"


class TicketTypeFilter(admin.SimpleListFilter):
    """The reasons that fit one ticket type. Chosen in Python: reasons are few, and a JSON list cannot be
    searched the same way on PostgreSQL and SQLite."""

    title = _("type")
    parameter_name = "ticket_type"

    def lookups(self, request, model_admin):
        return TicketType.choices

    def queryset(self, request, queryset):
        if self.value() not in TicketType.values:
            return queryset
        return queryset.filter(pk__in=[pk for pk, types in Reason.objects.values_list("pk", "ticket_types")
                                       if self.value() in types])


class OrderAndVisibilityForm(forms.ModelForm):
    """Asks the reason services' own checks while the form is validated, so a refusal shows beside its field
    with what was typed kept (the services check again when they save)."""

    # Not the model's PositiveIntegerField: a negative number gets the service's words, not the validator's.
    display_order = forms.IntegerField(label=_("display order"))

    def clean_display_order(self):
        return self._checked("display_order", check_display_order)

    def clean_is_visible(self):
        return self._checked("is_visible", lambda visible: check_reason_visibility(self.instance, visible))

    def _checked(self, name, check):
        value = self.cleaned_data[name]
        if name in self.changed_data:
            try:
                check(value)
            except DomainError as exc:
                raise ValidationError(exc.detail) from None
        return value


class ReasonListForm(OrderAndVisibilityForm):
    class Meta:
        model = Reason
        fields = list(ORDER_AND_VISIBILITY)


class ReasonForm(OrderAndVisibilityForm):
    ticket_types = forms.TypedMultipleChoiceField(
        label=_("ticket types"), choices=TicketType.choices, coerce=str, required=False,
        widget=forms.CheckboxSelectMultiple)

    class Meta:
        model = Reason
        fields = ["ticket_types"]  # the admin adds the others (its fieldsets)


@admin.register(Reason)
class ReasonAdmin(admin.ModelAdmin):
    form = ReasonForm
    list_display = ["move", "display_order", "code", "name", "name_zh", "group", "is_quality_issue", "responsible",
                    "types", "product_categories", "requires_photos", "is_visible", "retired"]
    list_display_links = ["code"]
    list_editable = ["display_order", "is_visible"]
    list_filter = ["group", "is_quality_issue", "responsible", "requires_photos", "is_visible", RetiredFilter,
                   TicketTypeFilter, "for_fresh", "for_general"]
    search_fields = ["code", "name", "name_zh"]
    ordering = ["display_order", "pk"]
    actions = ["delete_selected", "retire_selected", "restore_selected"]
    fieldsets = [
        (None, {"fields": ["code", "name", "name_zh", "group", "is_quality_issue", "responsible",
                           "requires_photos"]}),
        (_("Applies to"), {"fields": ["ticket_types", "for_fresh", "for_general"]}),
        (_("Display"), {"fields": ["is_visible", "display_order", "retired_at"]}),
    ]

    def get_changelist_form(self, request, **kwargs):
        return ReasonListForm

    # --- reordering: drag a row, or move it up / down past its neighbour ---------------------------

    def get_changelist_instance(self, request):
        """Each row learns its neighbours on the page (the ``move`` column's buttons name them), while the list
        is in display order: sorted by another column, "up" would mean nothing, so no buttons then."""
        changelist = super().get_changelist_instance(request)
        rows = list(changelist.result_list)
        in_order = "o" not in request.GET and self.has_change_permission(request)
        for i, reason in enumerate(rows):
            reason.list_above = rows[i - 1] if in_order and i > 0 else None
            reason.list_below = rows[i + 1] if in_order and i + 1 < len(rows) else None
            reason.list_movable = in_order
        return changelist

    @admin.display(description=_("move"))
    def move(self, obj):
        if not getattr(obj, "list_movable", False):
            return ""
        up = format_html('<button type="submit" form="reason-move-form" name="move" value="{} before {}" class="move-up" '
                         'aria-label="{}">↑</button>', obj.pk, obj.list_above.pk,
                         _("Move “%(code)s” up") % {"code": obj.code}) if obj.list_above else ""
        down = format_html('<button type="submit" form="reason-move-form" name="move" value="{} after {}" '
                           'class="move-down" aria-label="{}">↓</button>', obj.pk, obj.list_below.pk,
                           _("Move “%(code)s” down") % {"code": obj.code}) if obj.list_below else ""
        return format_html('<span class="reason-drag" data-reason="{}" title="{}" aria-hidden="true">⠿</span>{}{}',
                           obj.pk, _("drag to reorder"), up, down)

    def get_urls(self):
        return [path("move/", self.admin_site.admin_view(self.move_view), name="reasons_reason_move"),
                *super().get_urls()]

    def move_view(self, request):
        """One reason put before or after another ("<id> before <id>", "<id> after <id>"), through the service;
        back to the list as it was filtered."""
        wanted = request.POST.get("next", "")
        safe = url_has_allowed_host_and_scheme(wanted, allowed_hosts={request.get_host()},
                                               require_https=request.is_secure())
        back = HttpResponseRedirect(wanted if safe else reverse("admin:reasons_reason_changelist"))
        if request.method != "POST":
            return back
        if not self.has_change_permission(request):
            raise PermissionDenied
        move = next((value for value in request.POST.getlist("move") if value), "").split()
        if len(move) != 3 or move[1] not in ("before", "after") or not (move[0].isdigit() and move[2].isdigit()):
            self.message_user(request, _("Say which reason goes before or after which."), messages.ERROR)
            return back
        try:
            reason = move_reason_beside(reason_id=int(move[0]), actor=request.user, neighbour_id=int(move[2]),
                                        before=move[1] == "before")
        except DomainError as exc:
            self.message_user(request, exc.detail, messages.ERROR)
            return back
        self.log_change(request, reason, [{"changed": {"fields": ["display_order"]}}])
        self.message_user(request, _("“%(code)s” moved to place %(place)d of the order buyers see.") % {
            "code": reason.code, "place": reason.display_order // ORDER_STEP}, messages.SUCCESS)
        # The list's script puts the focus back on the button pressed, so a keyboard user presses again.
        return HttpResponseRedirect(f"{back.url}#moved-{reason.pk}-{'up' if move[1] == 'before' else 'down'}")

    def save_model(self, request, obj, form, change):
        """A new reason is saved whole. A change saves its other fields as Django does, while its order and
        visibility go through the services (the permission check, the retired reason's rule)."""
        if not change:
            return super().save_model(request, obj, form, change)
        wanted = {name: getattr(obj, name) for name in ORDER_AND_VISIBILITY if name in form.changed_data}
        others = [name for name in form.changed_data if name not in ORDER_AND_VISIBILITY]
        if others:
            obj.save(update_fields=others)
        if "display_order" in wanted:
            place_reason(reason_id=obj.pk, actor=request.user, display_order=wanted["display_order"])
        if "is_visible" in wanted:
            set_reason_visibility(reason_id=obj.pk, actor=request.user, visible=wanted["is_visible"])
        return None

    @admin.display(description=_("ticket types"))
    def types(self, obj):
        return ", ".join(obj.ticket_types)

    @admin.display(description=_("categories"))
    def product_categories(self, obj):
        return ", ".join(obj.categories)

    @admin.display(description=_("retired"), boolean=True, ordering="retired_at")
    def retired(self, obj):
        return obj.retired_at is not None

    def get_readonly_fields(self, request, obj=None):
        # The code is what integrations store: fixed once the reason exists. Retiring is an action.
        return ["code", "retired_at"] if obj is not None else ["retired_at"]

    # --- deleting: what is in use is retired ------------------------------------------------------

    def get_deleted_objects(self, objs, request):
        """The confirmation page lists reasons in use as "will be retired" instead of refusing
        because tickets protect them."""
        objs = list(objs)
        in_use = set(Reason.objects.filter(pk__in=[o.pk for o in objs], tickets__isnull=False)
                     .values_list("pk", flat=True))
        deleted, model_count, perms_needed, protected = super().get_deleted_objects(
            [o for o in objs if o.pk not in in_use], request)
        for obj in objs:
            if obj.pk in in_use:
                deleted.append(format_html("{}: {} ({})", capfirst(self.opts.verbose_name), obj,
                                           _("in use by tickets: it will be retired, not deleted")))
        return deleted, model_count, perms_needed, protected

    def log_deletions(self, request, queryset):
        """Logged after the service has said which reasons it deleted (see _delete_or_retire)."""

    def _delete_or_retire(self, request, obj) -> str | None:
        try:
            outcome = delete_or_retire_reason(reason_id=obj.pk, actor=request.user)
        except DomainError as exc:
            self.message_user(request, f"{obj.code}: {exc.detail}", messages.ERROR)
            return None
        if outcome == DELETED:
            super().log_deletions(request, [obj])
        else:
            self.log_change(request, obj, [{"changed": {"fields": ["retired_at", "is_visible"]}}])
        return outcome

    def delete_model(self, request, obj):
        outcome = self._delete_or_retire(request, obj)
        request._reason_delete_outcome = outcome
        if outcome == RETIRED:
            self.message_user(request, _("The reason “%(code)s” is used by tickets: it was retired, not "
                                         "deleted. Buyers no longer see it.") % {"code": obj.code},
                              messages.WARNING)

    def delete_queryset(self, request, queryset):
        done = {DELETED: [], RETIRED: []}
        for obj in queryset.order_by("pk"):
            outcome = self._delete_or_retire(request, obj)
            if outcome is not None:
                done[outcome].append(obj.code)
        if done[DELETED]:
            self.message_user(request, _("Deleted: %(codes)s.") % {"codes": ", ".join(done[DELETED])},
                              messages.SUCCESS)
        if done[RETIRED]:
            self.message_user(request, _("Used by tickets, so retired instead of deleted: %(codes)s.")
                              % {"codes": ", ".join(done[RETIRED])}, messages.WARNING)

    def response_delete(self, request, obj_display, obj_id):
        outcome = getattr(request, "_reason_delete_outcome", DELETED)
        if outcome == DELETED or IS_POPUP_VAR in request.POST:
            return super().response_delete(request, obj_display, obj_id)
        # Retired (or refused): say so instead of "deleted successfully"; back to the list.
        url = reverse(f"admin:{self.opts.app_label}_{self.opts.model_name}_changelist",
                      current_app=self.admin_site.name)
        url = add_preserved_filters({"preserved_filters": self.get_preserved_filters(request),
                                     "opts": self.opts}, url)
        return HttpResponseRedirect(url)

    @admin.action(permissions=["delete"], description=_("Delete selected reasons (those in use are retired)"))
    def delete_selected(self, request, queryset):
        if not request.POST.get("post"):
            return django_delete_selected(self, request, queryset)  # the confirmation page
        perms_needed, protected = self.get_deleted_objects(queryset, request)[2:]
        if perms_needed:
            raise PermissionDenied
        if protected:
            return django_delete_selected(self, request, queryset)  # shows what blocks the deletion
        self.delete_queryset(request, queryset)
        return None

    # --- retire / restore -------------------------------------------------------------------------

    @admin.action(permissions=["change"], description=_("Retire selected reasons (buyers no longer see them)"))
    def retire_selected(self, request, queryset):
        self._each(request, queryset, retire_reason, _("Retired: %(codes)s."))

    @admin.action(permissions=["change"], description=_("Restore selected reasons (visible again)"))
    def restore_selected(self, request, queryset):
        self._each(request, queryset, restore_reason, _("Restored: %(codes)s."))

    def _each(self, request, queryset, service, done_message):
        done = []
        for obj in queryset.order_by("pk"):
            try:
                service(reason_id=obj.pk, actor=request.user)
            except DomainError as exc:
                self.message_user(request, f"{obj.code}: {exc.detail}", messages.ERROR)
                continue
            self.log_change(request, obj, [{"changed": {"fields": ["retired_at", "is_visible"]}}])
            done.append(obj.code)
        if done:
            self.message_user(request, done_message % {"codes": ", ".join(done)}, messages.SUCCESS)
