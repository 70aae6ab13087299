from django import forms

from isocert.catalog.models import Country, Sector

from .models import ClientRelationship, Membership


class OrganizationForm(forms.Form):
    legal_name = forms.CharField(max_length=200, label="Legal name")
    trading_name = forms.CharField(max_length=200, required=False, label="Trading name")
    country = forms.ModelChoiceField(queryset=Country.objects.all(), to_field_name="code")
    registered_address = forms.CharField(widget=forms.Textarea(attrs={"rows": 3}),
                                         label="Registered address")
    legal_identifier = forms.CharField(max_length=60, required=False,
                                       label="Legal identifier (optional)",
                                       help_text="Company register or VAT number.")
    sector_codes = forms.ModelMultipleChoiceField(
        queryset=Sector.objects.all(), required=False, label="IAF sector codes",
        widget=forms.CheckboxSelectMultiple,
        help_text="Tick every technical sector of your activities (IAF ID 1); type in the "
                  "box to narrow the list.",
    )
    scope_statement = forms.CharField(
        widget=forms.Textarea(attrs={"rows": 3}), required=False, label="Scope statement",
        help_text="Activities, products and services the certification should cover.",
    )

    def service_data(self) -> dict:
        data = dict(self.cleaned_data)
        data["country"] = data["country"].code
        data["sector_codes"] = [s.code for s in data["sector_codes"]]
        return data

    @staticmethod
    def initial_for(organization) -> dict:
        return {
            "legal_name": organization.legal_name, "trading_name": organization.trading_name,
            "country": organization.country_id,
            "registered_address": organization.registered_address,
            "legal_identifier": organization.legal_identifier,
            "sector_codes": [s.code for s in organization.sectors.all()],
            "scope_statement": organization.scope_statement,
        }


class SiteForm(forms.Form):
    name = forms.CharField(max_length=150, label="Site name")
    address = forms.CharField(widget=forms.Textarea(attrs={"rows": 2}),
                              help_text="Street and number.")
    city = forms.CharField(max_length=100, required=False)
    postcode = forms.CharField(max_length=20, required=False)
    country = forms.ModelChoiceField(queryset=Country.objects.all(), to_field_name="code",
                                     required=False, empty_label="The organization's country",
                                     help_text="Printed with the site's address on the "
                                               "certificate.")
    effective_personnel = forms.DecimalField(
        min_value=0.01, max_digits=9, decimal_places=2, label="Effective personnel (FTE)",
        help_text="Full-time equivalents; part-timers count by hours worked.",
    )
    shifts = forms.IntegerField(min_value=1, max_value=5, initial=1)
    activities = forms.CharField(widget=forms.Textarea(attrs={"rows": 2}), required=False)
    is_central_function = forms.BooleanField(
        required=False, label="This is the central function (head office)"
    )


    def service_data(self) -> dict:
        data = dict(self.cleaned_data)
        data["country"] = data["country"].code if data.get("country") else ""
        return data


class InvitationForm(forms.Form):
    email = forms.EmailField(label="E-mail address")
    role = forms.ChoiceField(choices=Membership.Role.choices, initial=Membership.Role.EDITOR)


class RoleForm(forms.Form):
    role = forms.ChoiceField(choices=Membership.Role.choices)


class TokenForm(forms.Form):
    name = forms.CharField(max_length=100, label="Token name",
                           help_text="What will use it, e.g. 'ERP export'.")
    expires_in_days = forms.IntegerField(min_value=1, max_value=730, required=False,
                                         initial=90, label="Expires after (days)")


class ClientRelationshipForm(forms.Form):
    """A CB staff member's own declaration of a link with a client (services validate)."""

    organization_id = forms.TypedChoiceField(coerce=int, label="Client")
    kind = forms.ChoiceField(choices=ClientRelationship.Kind.choices, label="Relationship")
    start_date = forms.DateField(widget=forms.DateInput(attrs={"type": "date"}), label="From")
    end_date = forms.DateField(widget=forms.DateInput(attrs={"type": "date"}), required=False,
                               label="Until", help_text="Leave empty while it is ongoing.")
    notes = forms.CharField(widget=forms.Textarea(attrs={"rows": 2}), required=False,
                            max_length=2000, label="Notes (optional)")

    def __init__(self, *args, organizations=(), **kwargs):
        super().__init__(*args, **kwargs)
        self.fields["organization_id"].choices = [("", "—")] + [
            (org.pk, str(org) if str(org) == org.legal_name else f"{org} ({org.legal_name})")
            for org in organizations]
