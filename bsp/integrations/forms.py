"""The subscription form (the services validate the URL and the events again)."""

from __future__ import annotations

from django import forms

from bsp.integrations import events


class SubscriptionForm(forms.Form):
    url = forms.CharField(
        label="Target URL",
        max_length=500,
        help_text="Where Civic Relay sends events, e.g. https://crm.example.gov/civic-relay. "
        "It must use https and a public address.",
        widget=forms.URLInput(attrs={"autocomplete": "off", "spellcheck": "false"}),
    )
    description = forms.CharField(label="Description", max_length=200, required=False)
    events = forms.MultipleChoiceField(
        label="Events",
        choices=events.CHOICES,
        help_text="Choose the events this URL receives.",
        widget=forms.CheckboxSelectMultiple(attrs={"class": "usa-checkbox__input"}),
    )


class DisableForm(forms.Form):
    reason = forms.CharField(label="Reason", max_length=200, required=False)
