"""Check and submit: Meta's rules and the content pre-screen shown before anything goes to
Meta; a finding needs a justification (kept by the service); the submission reaches the
simulator and the template is pending review."""

from __future__ import annotations

import re
from typing import Any

import pytest
from django.urls import reverse

from records.models import AuditEvent
from templates_mgr.models import HeaderSample, MessageTemplate, TemplateVersion
from tenants.scoping import agency_scope
from tests.factories import TemplateFactory
from tests.templates_mgr.pages.factories import PERMIT_COMPONENTS, approved_pair, draft_template

pytestmark = pytest.mark.django_db
Status = MessageTemplate.Status

LOTTERY = [
    {
        "type": "BODY",
        "text": "Hello {{1}}, buy your lottery ticket at the county fair.",
        "example": {"body_text": [["Ana"]]},
    }
]


def _remote(simulator) -> list[dict[str, Any]]:
    return simulator._call("GET", "/_sim/templates")["data"]


def _refreshed(template: MessageTemplate) -> MessageTemplate:
    with agency_scope(template.agency_id):
        template.refresh_from_db()
    return template


def test_a_clean_draft_passes_both_checks_and_offers_to_submit(admin_client, agency_a, waba):
    template = draft_template(agency_a, waba)

    page = admin_client.get(reverse("templates_mgr:submit", args=[template.pk])).text

    assert "It follows Meta's automatic rules" in page
    assert "No gambling, weapons, adult content" in page
    assert ">Submit to Meta</button>" in page
    assert 'name="justification"' not in page


def test_a_finding_is_shown_in_plain_language_before_submission(admin_client, agency_a, waba):
    template = draft_template(agency_a, waba, components=LOTTERY)

    page = admin_client.get(reverse("templates_mgr:submit", args=[template.pk])).text

    assert "<strong>Lottery or gambling</strong> (Body)" in page
    assert "lottery" in page
    assert "Submit to Meta anyway" in page
    assert 'aria-describedby="id_justification-hint"' in page


def test_submitting_despite_a_finding_without_a_justification_is_refused(
    admin_client, agency_a, registered_number, simulator
):
    template = draft_template(agency_a, registered_number.waba, components=LOTTERY)

    response = admin_client.post(reverse("templates_mgr:submit", args=[template.pk]), {})

    assert response.status_code == 422
    assert 'id="id_justification-error"' in response.text
    assert _remote(simulator) == []
    assert _refreshed(template).status == Status.DRAFT


def test_submitting_with_a_justification_sends_it_and_records_why(
    admin_client, agency_a, registered_number, simulator
):
    template = draft_template(agency_a, registered_number.waba, components=LOTTERY)
    reason = "Notice of the state lottery's results, approved by counsel."

    response = admin_client.post(
        reverse("templates_mgr:submit", args=[template.pk]), {"justification": reason}
    )

    assert response["Location"] == reverse("templates_mgr:detail", args=[template.pk])
    assert [t["name"] for t in _remote(simulator)] == ["permit_ready"]
    assert _refreshed(template).status == Status.PENDING
    with agency_scope(agency_a):
        version = TemplateVersion.objects.filter(template=template).order_by("-number").first()
        overridden = AuditEvent.objects.filter(action="template.prescreen_overridden").count()
    assert version is not None and version.justification == reason
    assert overridden == 1


def test_a_clean_draft_is_submitted_to_meta(admin_client, agency_a, registered_number, simulator):
    template = draft_template(agency_a, registered_number.waba)

    admin_client.post(reverse("templates_mgr:submit", args=[template.pk]), {})

    [remote] = _remote(simulator)
    assert remote["name"] == "permit_ready" and remote["language"] == "en_US"
    assert _refreshed(template).status == Status.PENDING


def test_an_invalid_draft_lists_its_problems_and_has_no_submit_button(admin_client, agency_a, waba):
    template = draft_template(
        agency_a, waba, components=[{"type": "BODY", "text": "{{1}} is ready"}]
    )

    page = admin_client.get(reverse("templates_mgr:submit", args=[template.pk])).text

    assert "Meta would refuse it" in page
    assert re.search(r"<strong>Body( \(\w+\))?:</strong> [^<]*variable", page)
    assert "Submit to Meta" not in page
    assert reverse("templates_mgr:edit", args=[template.pk]) in page


def test_an_approved_template_without_a_new_version_cannot_be_submitted_again(
    admin_client, agency_a, registered_number, simulator
):
    english, _ = approved_pair(agency_a, registered_number.waba)

    response = admin_client.post(reverse("templates_mgr:submit", args=[english.pk]), {})

    assert "cannot be submitted now" in response.text
    assert _remote(simulator) == []


def test_a_supervisor_cannot_submit(supervisor_client, agency_a, waba):
    template = draft_template(agency_a, waba)
    response = supervisor_client.post(reverse("templates_mgr:submit", args=[template.pk]), {})
    assert response.status_code == 403


def _image_header(handle: str) -> list[dict[str, Any]]:
    header = {"type": "HEADER", "format": "IMAGE", "example": {"header_handle": [handle]}}
    return [header, *[dict(c) for c in PERMIT_COMPONENTS]]


def test_the_check_page_previews_an_uploaded_header_sample_by_its_file(
    admin_client, agency_a, waba
):
    with agency_scope(agency_a):
        HeaderSample.objects.create(
            agency=agency_a,
            waba=waba,
            handle="4::abc",
            filename="june.jpg",
            mime_type="image/jpeg",
            size=1200,
        )
    template = draft_template(agency_a, waba, components=_image_header("4::abc"))

    page = admin_client.get(reverse("templates_mgr:submit", args=[template.pk])).text

    assert "Image: june.jpg" in page
    assert "not chosen yet" not in page and "Still to fill" not in page


def test_the_detail_previews_a_synced_media_header_with_metas_sample(admin_client, agency_a, waba):
    # Synced from WhatsApp Manager: Meta has its sample; we never uploaded it.
    template = TemplateFactory(
        agency=agency_a, waba=waba, components=_image_header("4::elsewhere"), meta_template_id="7"
    )

    page = admin_client.get(reverse("templates_mgr:detail", args=[template.pk])).text

    assert "Image: the sample given to Meta" in page
    assert "Still to fill" not in page
