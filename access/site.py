"""The back office's admin site: who may enter (a staff role's group is enough), and its login form with the
two-factor code on the same screen."""

from django import forms
from django.contrib import admin
from django.contrib.admin.forms import AdminAuthenticationForm
from django.core.exceptions import ValidationError
from django.urls import path
from django.utils.translation import gettext_lazy as _

from access import home, languages, two_factor
from aftersales.roles import is_staff_member


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

    def index(self, request, extra_context=None):
        """The home leads with what needs acting on, then the queues of the user's roles and their counts
        (access.home)."""
        return super().index(request, {"home_notices": home.notices_for(request),
                                       "home_queues": home.queues_for(request), **(extra_context or {})})

    def login(self, request, extra_context=None):
        """Django's admin login; once it succeeds, the account's language becomes the browser's (a choice made
        on the login page itself is saved to the account instead: access.languages)."""
        was_anonymous = not request.user.is_authenticated
        response = super().login(request, extra_context)
        if request.method == "POST" and was_anonymous and request.user.is_authenticated:
            languages.apply_at_login(request, response)
        return response

    def get_urls(self):
        return [path("two-factor/", self.admin_view(two_factor.setup_view), name="two_factor_setup"),
                *super().get_urls()]
