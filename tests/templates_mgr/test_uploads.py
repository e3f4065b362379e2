"""Header samples through Meta's Resumable Upload API: the client against the simulator
(session, upload, resume after a broken connection, Meta's refusals) and the service
(type and size checked first, the handle returned, the upload audited)."""

from __future__ import annotations

import pytest

from bsp.events.models import DomainEvent
from messaging.whatsapp import CloudAPIError
from records.models import AuditEvent
from templates_mgr import selectors, services
from tenants.scoping import agency_scope
from tests.templates_mgr.conftest import APP_ID

PDF = b"%PDF-1.4\n" + b"sample notice " * 500


def _client(simulator, number):
    return simulator.client(
        {"id": number.phone_number_id, "access_token": number.waba.access_token}
    )


def test_a_file_uploads_in_one_go_and_gives_a_handle(registered_number, simulator):
    client = _client(simulator, registered_number)
    session = client.create_upload_session(APP_ID, "notice.pdf", len(PDF), "application/pdf")
    assert session.startswith("upload:") and "?sig=" in session
    handle = client.upload_file(session, PDF)
    assert handle.startswith("4::")
    assert client.upload_offset(session) == len(PDF)


def test_an_interrupted_upload_resumes_from_metas_offset(registered_number, simulator):
    client = _client(simulator, registered_number)
    session = client.create_upload_session(APP_ID, "notice.pdf", len(PDF), "application/pdf")
    simulator._call("POST", "/_sim/uploads/interrupt", json={"after_bytes": 1000})
    with pytest.raises(CloudAPIError):
        client.upload_file(session, PDF)
    offset = client.upload_offset(session)
    assert offset == 1000
    handle = client.upload_file(session, PDF[offset:], offset=offset)
    assert handle.startswith("4::")
    [upload] = simulator._call("GET", "/_sim/uploads")["data"]
    assert upload["received"] == len(PDF)


def test_a_wrong_offset_is_refused_with_the_offset_to_resume_from(registered_number, simulator):
    client = _client(simulator, registered_number)
    session = client.create_upload_session(APP_ID, "notice.pdf", len(PDF), "application/pdf")
    with pytest.raises(CloudAPIError, match="resume from file_offset 0"):
        client.upload_file(session, PDF[10:], offset=10)


def test_a_file_type_meta_does_not_take_is_refused_at_the_session(registered_number, simulator):
    client = _client(simulator, registered_number)
    with pytest.raises(CloudAPIError) as refused:
        client.create_upload_session(APP_ID, "a.gif", 100, "image/gif")
    assert refused.value.code == 100


def test_a_session_id_with_a_forged_signature_does_not_exist(registered_number, simulator):
    client = _client(simulator, registered_number)
    session = client.create_upload_session(APP_ID, "notice.pdf", len(PDF), "application/pdf")
    forged = session.split("?sig=")[0] + "?sig=forged"
    with pytest.raises(CloudAPIError) as refused:
        client.upload_file(forged, PDF)
    assert (refused.value.code, refused.value.subcode) == (100, 33)


def test_an_unknown_token_is_refused(registered_number, simulator):
    client = simulator.client({"id": registered_number.phone_number_id, "access_token": "nope"})
    with pytest.raises(CloudAPIError) as refused:
        client.create_upload_session(APP_ID, "notice.pdf", 10, "application/pdf")
    assert refused.value.code == 190


# ---- the service ----------------------------------------------------------------------------


def test_the_service_uploads_a_sample_and_records_it(agency_a, registered_number, admin_actor):
    handle = services.upload_header_sample(
        actor=admin_actor,
        waba=registered_number.waba,
        content=PDF,
        mime_type="application/pdf",
        filename="../../Permit notice.pdf",
    )
    assert handle.startswith("4::")
    with agency_scope(agency_a):
        sample = selectors.header_sample(registered_number.waba, handle)
        assert sample is not None
        assert (sample.filename, sample.mime_type, sample.size) == (
            "Permit notice.pdf",
            "application/pdf",
            len(PDF),
        )
        assert AuditEvent.objects.filter(action="template.header_sample_uploaded").exists()
        assert DomainEvent.objects.filter(type="template.changed").exists()


def test_the_service_resumes_an_interrupted_upload(registered_number, simulator, admin_actor):
    simulator._call("POST", "/_sim/uploads/interrupt", json={"after_bytes": 2000})
    handle = services.upload_header_sample(
        actor=admin_actor,
        waba=registered_number.waba,
        content=PDF,
        mime_type="application/pdf",
        filename="notice.pdf",
    )
    assert handle.startswith("4::")
    [upload] = simulator._call("GET", "/_sim/uploads")["data"]
    assert upload["received"] == len(PDF)


def test_the_service_refuses_a_type_meta_does_not_take_before_any_call(
    registered_number, simulator, admin_actor
):
    with pytest.raises(services.TemplateError, match="JPEG or PNG image"):
        services.upload_header_sample(
            actor=admin_actor,
            waba=registered_number.waba,
            content=b"GIF89a",
            mime_type="image/gif",
            filename="a.gif",
        )
    assert simulator._call("GET", "/_sim/uploads")["data"] == []


def test_the_service_refuses_an_image_over_5_mb(registered_number, admin_actor):
    with pytest.raises(services.TemplateError, match="at most 5 MB"):
        services.upload_header_sample(
            actor=admin_actor,
            waba=registered_number.waba,
            content=b"\xff\xd8" + b"0" * (5 * 1024 * 1024),
            mime_type="image/jpeg",
            filename="big.jpg",
        )


def test_the_service_needs_the_app_id_setting(registered_number, admin_actor, settings):
    settings.WHATSAPP_APP_ID = ""
    with pytest.raises(services.TemplateError, match="WHATSAPP_APP_ID"):
        services.upload_header_sample(
            actor=admin_actor,
            waba=registered_number.waba,
            content=PDF,
            mime_type="application/pdf",
            filename="notice.pdf",
        )
