"""The back office's admin site, and building blocks shared by the apps: records that are written by
services, never by hand."""

from django import forms
from django.contrib import admin
from django.contrib.admin.forms import AdminAuthenticationForm
from django.core.exceptions import ValidationError
from django.core.paginator import Paginator
from django.urls import path
from django.utils.functional import cached_property
from django.utils.translation import gettext_lazy as _

from aftersales import two_factor
from aftersales.roles import is_staff_member


class CappedCountPaginator(Paginator):
    """Counting a million rows on every page view costs more than the page: count at most CAP + 1 (the
    list then says "more than CAP"), which the database answers from the first rows it finds."""

    CAP = 10_000

    @cached_property
    def count(self) -> int:
        # Without the list's ORDER BY: counting needs no order, and the planner is then free to count
        # from whichever index the filter has.
        return self.object_list.order_by()[: self.CAP + 1].count()

    def page(self, number):
        """A "deferred join": the page's ids first, in the list's order (a narrow query an index can
        answer alone, however many rows the filter keeps), then those rows with everything shown."""
        number = self.validate_number(number)
        bottom = (number - 1) * self.per_page
        ids = list(self.object_list.values_list("pk", flat=True)[bottom:bottom + self.per_page])
        return self._get_page(self.object_list.filter(pk__in=ids), number, self)


class BackOfficeLoginForm(AdminAuthenticationForm):
    """Django's admin login refuses a user not marked "staff"; here a staff role's group is enough.
    Who has set up two-factor gives the code on the same screen (one step for staff who log in daily);
    everyone else leaves it empty."""

    otp_token = forms.CharField(
        label=_("Code"), required=False, max_length=16,
        help_text=_("From your authenticator app, if you have set up two-factor login."),
        widget=forms.TextInput(attrs={"autocomplete": "one-time-code", "inputmode": "numeric", "size": 10}))

    def confirm_login_allowed(self, user):
        if not user.is_active or not (user.is_staff or is_staff_member(user)):
            raise ValidationError(self.error_messages["invalid_login"], code="invalid_login",
                                  params={"username": self.username_field.verbose_name})

    def clean(self):
        cleaned = super().clean()
        user = self.user_cache
        if user is not None and two_factor.has_device(user):
            code = cleaned.get("otp_token", "")
            if not code:
                raise ValidationError({"otp_token": _("Enter the code your authenticator app shows now.")}, code="otp")
            device, problem = two_factor.check_code(user, code)
            if device is None:
                raise ValidationError({"otp_token": problem}, code="otp")
            user.otp_device = device  # django-otp marks the session verified when it logs in
        return cleaned


class BackOfficeSite(admin.AdminSite):
    """Staff roles are groups: a user added to ops, finance or warehouse may log in at once, without
    also having to be marked "staff" (what each one may see is the group's permissions)."""

    login_form = BackOfficeLoginForm
    site_header = _("After-sales back office")
    site_title = _("After-sales")
    index_title = _("Work queues and records")
    site_url = None  # there is no public site behind the back office: no "View site" link
    # The work queues need the width (a ticket list fits 1,440 px); the index page and the breadcrumbs
    # lead everywhere the sidebar did.
    enable_nav_sidebar = False

    def has_permission(self, request):
        user = request.user
        # A session that owes its two-factor code is sent back to the login page, which asks for it.
        return user.is_active and (user.is_staff or is_staff_member(user)) and two_factor.satisfied(request)

    def get_urls(self):
        return [path("two-factor/", self.admin_view(two_factor.setup_view), name="two_factor_setup"),
                *super().get_urls()]


class ReadOnlyAdmin(admin.ModelAdmin):
    """A record list and detail page that can only be read (nothing is lost or edited by hand)."""

    def has_add_permission(self, request, obj=None):
        return False

    def has_change_permission(self, request, obj=None):
        return False

    def has_delete_permission(self, request, obj=None):
        return False


class ReadOnlyInline(admin.TabularInline):
    """Rows shown beside their parent, never added, changed or deleted there."""

    extra = 0
    can_delete = False

    def has_add_permission(self, request, obj=None):
        return False

    def has_change_permission(self, request, obj=None):
        return False


class YesNoFilter(admin.SimpleListFilter):
    """A list filter on whether a row has something: "yes" where ``field`` holds a value (a time, a
    related row), "no" where it is empty. A subclass names the field, its title and its two words;
    ``values`` keeps the words an older address used, ``distinct`` drops the repeats a to-many field
    brings."""

    field = ""
    yes_label = _("Yes")
    no_label = _("No")
    values = ("yes", "no")
    distinct = False

    def lookups(self, request, model_admin):
        return [(self.values[0], self.yes_label), (self.values[1], self.no_label)]

    def queryset(self, request, queryset):
        if self.value() not in self.values:
            return queryset
        chosen = queryset.filter(**{f"{self.field}__isnull": self.value() == self.values[1]})
        return chosen.distinct() if self.distinct else chosen
