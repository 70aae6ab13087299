"""``core.forms.LongSelect`` draws the same select as Django's ``Select``, in Python."""

import pytest
from django import forms
from django.test.html import parse_html

from isocert.core.forms import LongSelect

CHOICES = [("", "— choose —"), ("1", "ISO 9001 4.1 Context"), ("2", 'A.5.1 <Policies> & "rules"'),
           ("3", "ISO/IEC 27001 A.8.34")]


def _form(widget, data=None, required=True):
    class ClauseForm(forms.Form):
        clause_id = forms.ChoiceField(choices=CHOICES, widget=widget, required=required,
                                      help_text="Which clause")
    return ClauseForm(data, auto_id="id_finding_%s")


@pytest.mark.parametrize("data, required", [(None, True), ({"clause_id": "2"}, True),
                                            ({"clause_id": "9"}, True), ({}, False)])
def test_long_select_draws_what_select_draws(data, required):
    """Same options, values, escaping, selected option and attributes (id, required,
    aria-invalid and aria-describedby on an invalid form), unbound and bound."""
    fast, slow = _form(LongSelect, data, required), _form(forms.Select, data, required)
    if data is not None:
        assert fast.is_valid() == slow.is_valid()
    assert parse_html(str(fast["clause_id"])) == parse_html(str(slow["clause_id"]))
    drawn = str(fast["clause_id"])
    assert "&lt;Policies&gt; &amp; &quot;rules&quot;" in drawn and "<Policies>" not in drawn
