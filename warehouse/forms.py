"""The warehouse's admin forms: what a clerk types, turned into what the services take. Refusals come back
from the services as domain errors naming a field (``lines.0.quantity``); each form says which of its own
fields that is, so the error stands beside what was typed."""

from django import forms
from django.utils.translation import gettext_lazy as _

from aftersales.errors import DomainError
from aftersales.vocabulary import InspectionRejection
from warehouse import services
from warehouse.models import Courier, Incident


class MultipleImageInput(forms.ClearableFileInput):
    allow_multiple_selected = True


class MultipleImageField(forms.FileField):
    """Several photos at once (the images themselves are checked by tickets.uploads, as the buyer's are)."""

    def __init__(self, *args, **kwargs):
        kwargs.setdefault("widget", MultipleImageInput(attrs={"accept": "image/jpeg,image/png,image/webp"}))
        super().__init__(*args, **kwargs)

    def clean(self, data, initial=None):
        single = super().clean
        if isinstance(data, list | tuple):
            return [single(item, initial) for item in data if item]
        return [single(data, initial)] if data else []


def _reason_choices():
    return [("", "—"), *InspectionRejection.choices]


REFUSAL_SLOTS = 3  # reasons per line on the form (a line of one unit has one)


class ReceiveForm(forms.Form):
    """Per claimed line: how many units arrived, and of those how many were refused, each group with its
    reason and a note (2 cups arrived, 1 refused "damaged by the buyer: chipped"); the rest passed. Then the
    inbound's note and photos."""

    note = forms.CharField(label=_("Inspection note"), required=False, max_length=1000,
                           widget=forms.TextInput(attrs={"size": 60}))
    photos = MultipleImageField(label=_("Inspection photos"), required=False,
                                help_text=_("JPEG, PNG or WebP; several at once."))

    def __init__(self, *args, ticket, **kwargs):
        super().__init__(*args, **kwargs)
        self.ticket_lines = list(ticket.lines.select_related("order_line").order_by("pk"))
        self.rows = []  # (line, received field, [(refused, reason, note) per slot])
        for line in self.ticket_lines:
            pk = line.pk
            self.fields[f"received_{pk}"] = forms.IntegerField(
                label=_("received"), min_value=0, initial=line.quantity,
                widget=forms.NumberInput(attrs={"class": "qty", "min": 0, "max": line.quantity}))
            slots = []
            for slot in range(min(line.quantity, REFUSAL_SLOTS)):
                self.fields[f"refused_{pk}_{slot}"] = forms.IntegerField(
                    label=_("refused"), min_value=0, required=False, initial=0,
                    widget=forms.NumberInput(attrs={"class": "qty", "min": 0, "max": line.quantity}))
                self.fields[f"reason_{pk}_{slot}"] = forms.ChoiceField(label=_("why refused"),
                                                                       choices=_reason_choices(), required=False)
                self.fields[f"note_{pk}_{slot}"] = forms.CharField(
                    label=_("note"), required=False, max_length=500,
                    widget=forms.TextInput(attrs={"placeholder": _("what is wrong")}))
                slots.append((self[f"refused_{pk}_{slot}"], self[f"reason_{pk}_{slot}"], self[f"note_{pk}_{slot}"]))
            self.rows.append((line, self[f"received_{pk}"], slots))
        self._sent: list[str] = []  # for each entry sent to the service, the form field holding its units

    def _slots(self, line):
        return [slot for slot in range(REFUSAL_SLOTS) if f"refused_{line.pk}_{slot}" in self.fields]

    def clean(self):
        data = super().clean()
        if self.errors:
            return data
        for line in self.ticket_lines:
            refused = 0
            for slot in self._slots(line):
                units = data.get(f"refused_{line.pk}_{slot}") or 0
                if units and not data.get(f"reason_{line.pk}_{slot}"):
                    self.add_error(f"reason_{line.pk}_{slot}", _("Say why these units were refused."))
                refused += units
            if refused > (data.get(f"received_{line.pk}") or 0):
                self.add_error(f"received_{line.pk}", _("More units refused than received: %(refused)s refused, "
                                                        "%(received)s received.") % {
                    "refused": refused, "received": data.get(f"received_{line.pk}") or 0})
        if not self.errors and not any(data.get(f"received_{line.pk}") for line in self.ticket_lines):
            raise forms.ValidationError(_("Nothing arrived? Enter the units that did."))
        return data

    def lines(self) -> list[dict]:
        """What the service takes: per line the units that passed, and one entry per refusal with its reason
        (units not received are missing)."""
        out, self._sent = [], []
        for line in self.ticket_lines:
            line_id, received = line.order_line.line_id, self.cleaned_data[f"received_{line.pk}"] or 0
            refusals = [(slot, self.cleaned_data.get(f"refused_{line.pk}_{slot}") or 0) for slot in self._slots(line)]
            passed = received - sum(units for _slot, units in refusals)
            if passed:
                out.append({"order_line_id": line_id, "quantity": passed, "accepted": True, "reject_reason": "",
                            "note": ""})
                self._sent.append(f"received_{line.pk}")
            for slot, units in refusals:
                if units:
                    out.append({"order_line_id": line_id, "quantity": units, "accepted": False,
                                "reject_reason": self.cleaned_data[f"reason_{line.pk}_{slot}"],
                                "note": self.cleaned_data[f"note_{line.pk}_{slot}"]})
                    self._sent.append(f"refused_{line.pk}_{slot}")
        return out

    def field_for(self, service_field: str | None) -> str | None:
        """The form field a service's refusal names (None: the form as a whole)."""
        parts = (service_field or "").split(".")
        if parts[0] == "lines" and len(parts) == 3 and parts[1].isdigit() and int(parts[1]) < len(self._sent):
            units = self._sent[int(parts[1])]
            if units.startswith("refused_"):
                return {"quantity": units, "reject_reason": units.replace("refused_", "reason_", 1),
                        "note": units.replace("refused_", "note_", 1)}.get(parts[2])
            return units if parts[2] == "quantity" else None
        return {"note": "note", "photo_ids": "photos", "file": "photos"}.get(parts[0])


OTHER_COURIER = "other"


class ShipForm(forms.Form):
    """What leaves: units per requested line, the courier (from the list administrators keep, or "other"
    with its name typed) and the tracking number."""

    courier = forms.ChoiceField(label=_("Courier"))
    courier_other = forms.CharField(label=_("Other courier"), max_length=100, required=False,
                                    widget=forms.TextInput(attrs={"placeholder": _("the courier's name")}))
    tracking_no = forms.CharField(label=_("Tracking no"), max_length=100)

    def __init__(self, *args, request_lines, on_hand=None, **kwargs):
        super().__init__(*args, **kwargs)
        self.fields["courier"].choices = [("", "—"), *((str(c.pk), c.name) for c in Courier.objects.filter(active=True)),
                                          (OTHER_COURIER, _("other (type its name)"))]
        self.request_lines = list(request_lines)
        on_hand = on_hand or {}
        self.rows = []  # (line, units field, on hand: sellable after-sales stock of its SKU)
        for line in self.request_lines:
            self.fields[f"qty_{line.pk}"] = forms.IntegerField(
                label=_("units to send"), min_value=0, initial=line.quantity,
                widget=forms.NumberInput(attrs={"class": "qty", "min": 0}))
            self.rows.append((line, self[f"qty_{line.pk}"], on_hand.get(line.order_line.sku, 0)))
        self.order_fields([*(f"qty_{line.pk}" for line in self.request_lines), "courier", "courier_other",
                           "tracking_no"])
        self._sent: list[int] = []

    def clean(self):
        data = super().clean()
        choice = data.get("courier")
        if choice == OTHER_COURIER:
            if not (data.get("courier_other") or "").strip():
                self.add_error("courier_other", _("Type the courier's name, or pick one from the list."))
            data["courier_name"] = (data.get("courier_other") or "").strip()
        elif choice:
            courier = Courier.objects.filter(pk=choice, active=True).first() if choice.isdigit() else None
            if courier is None:
                self.add_error("courier", _("Pick a courier from the list."))
            data["courier_name"] = courier.name if courier else ""
        if not self.errors and not any(data.get(f"qty_{line.pk}") for line in self.request_lines):
            raise forms.ValidationError(_("Say how many units of which line leave."))
        return data

    def lines(self) -> list[dict]:
        out, self._sent = [], []
        for line in self.request_lines:
            if self.cleaned_data[f"qty_{line.pk}"]:
                out.append({"order_line_id": line.order_line.line_id, "quantity": self.cleaned_data[f"qty_{line.pk}"]})
                self._sent.append(line.pk)
        return out

    def field_for(self, service_field: str | None) -> str | None:
        parts = (service_field or "").split(".")
        if parts[0] == "lines" and len(parts) == 3 and parts[1].isdigit() and int(parts[1]) < len(self._sent):
            return f"qty_{self._sent[int(parts[1])]}"
        if parts[0] == "courier":
            return "courier_other" if self.cleaned_data.get("courier") == OTHER_COURIER else "courier"
        return parts[0] if parts[0] == "tracking_no" else None


class HeldForm(forms.Form):
    note = forms.CharField(label=_("Note (optional)"), required=False, max_length=1000)


class TooLateForm(forms.Form):
    note = forms.CharField(label=_("What left, and how (courier, tracking no)"), max_length=1000)


class IncidentForm(forms.ModelForm):
    """A register entry: the order (and ticket) by number, as staff know them; checked by the service."""

    order_no = forms.CharField(label=_("Order no"), max_length=64)
    ticket_no = forms.CharField(label=_("Ticket no (optional)"), max_length=32, required=False)

    class Meta:
        model = Incident
        fields = ["occurred_on", "sku", "courier", "tracking_no", "description", "cost"]
        widgets = {"description": forms.TextInput(attrs={"size": 80})}

    kind = ""  # set by the register's admin

    def clean_cost(self):
        """Checked here, whatever else is wrong, so the database's own rule (a cost is never negative) is never
        what the clerk reads."""
        cost = self.cleaned_data.get("cost")
        if cost is not None and cost < 0:
            raise forms.ValidationError(_("The cost cannot be negative: enter what the shop lost, 0 or more."))
        return cost

    def clean(self):
        data = super().clean()
        if set(self.errors) - {"cost"}:
            return data
        try:  # a bad cost is already named: the rest is still checked, so every mistake shows at once
            self.terms = {key: data.get(key) for key in ("order_no", "ticket_no", "sku", "courier", "tracking_no",
                                                          "description", "cost", "occurred_on")}
            services.incident_terms(kind=self.kind, **{**self.terms, "cost": "0" if "cost" in self.errors
                                                      else str(data["cost"])})
        except DomainError as exc:
            self.add_error(exc.field if exc.field in self.fields else None, exc.detail)
        return data
