"""The administrators' forms for webhook endpoints. They only parse what was typed: the URL is checked (and
refused, naming the field) by the services, which the admin calls with the cleaned data."""

from django import forms
from django.core.exceptions import ValidationError
from django.utils.translation import gettext_lazy as _

from events import catalogue
from events.transport import AddressRefused, check_url
from orders.models import Shop


def type_choices() -> list[tuple[str, str]]:
    """Every type of the catalogue, its code first (what the receiver reads) and what it means."""
    return [(code, f"{code} — {kind.summary}") for code, kind in catalogue.TYPES.items()]


class EndpointForm(forms.Form):
    url = forms.CharField(label=_("URL"), max_length=500, widget=forms.TextInput(attrs={"size": 80}),
                          help_text=_("Where the events are POSTed: https, a public address."))
    description = forms.CharField(label=_("description"), max_length=200, required=False,
                                  widget=forms.TextInput(attrs={"size": 80}))
    event_types = forms.MultipleChoiceField(label=_("event types"), required=False,
                                            widget=forms.CheckboxSelectMultiple,
                                            help_text=_("None ticked: every type, also those added later."))

    def __init__(self, *args, **kwargs):
        super().__init__(*args, **kwargs)
        self.fields["event_types"].choices = type_choices()  # in the reader's language, read now

    def clean_url(self):
        """The check the service makes (and makes again when it registers), here too so that a refused URL
        is said beside the other fields' errors at once."""
        url = self.cleaned_data["url"].strip()
        try:
            check_url(url)
        except AddressRefused as exc:
            raise ValidationError(str(exc), code="address_refused") from None
        return url


class AddEndpointForm(EndpointForm):
    shop = forms.ModelChoiceField(label=_("shop"), queryset=Shop.objects.order_by("code"))
    field_order = ["shop", "url", "description", "event_types"]


class ChangeEndpointForm(EndpointForm):
    active = forms.BooleanField(label=_("active"), required=False,
                                help_text=_("Not active: no event is queued or sent; \"Resend from position\" catches up later."))


class ResendFromForm(forms.Form):
    position = forms.IntegerField(label=_("from position"), min_value=0)
