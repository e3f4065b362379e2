"""Hostile input to the consent pages: files that are not what they claim, cells that a
spreadsheet would run as formulas, markup in names, forged or replayed public forms."""

from __future__ import annotations

import csv
import io

import pytest
from django.core.files.uploadedfile import SimpleUploadedFile
from django.test import Client
from django.urls import reverse

from messaging.consent import imports, public
from messaging.consent.models import ConsentImport
from messaging.models import Consent
from records.audit import Actor
from tenants.scoping import agency_scope
from tests.consent.factories import TopicFactory
from tests.factories import ConsentFactory, ContactFactory

pytestmark = pytest.mark.django_db
FORMULAS = ["=cmd|' /C calc'!A0", "@SUM(1+1)", "-2+3+cmd|'/C calc'!A0", "+HYPERLINK(1)"]


def _cells(body: bytes) -> list[list[str]]:
    return list(csv.reader(io.StringIO(body.decode("utf-8"))))


def _runs_as_formula(cell: str) -> bool:
    return cell[:1] in ("=", "+", "-", "@", "\t", "\r") and not cell.lstrip("+-").isdigit()


@pytest.mark.parametrize(
    ("raw", "reason"),
    [
        (b"\xff\xfe" + "phone\n".encode("utf-16-le")[:-1], "is not"),  # a UTF-16 BOM, odd bytes
        (b"PK\x03\x04\x14\x00\x06\x00" + b"\x00\x9d" * 50, "not text"),  # an .xlsx
        (b"phone\n", "no contacts"),
        (b"\n\n   \n", "empty"),
        (b"name,email\nAna,a@example.gov\n", "“name”, “email”"),
    ],
    ids=["utf16-odd-bytes", "xlsx-renamed", "header-only", "blank", "wrong-columns"],
)
def test_a_file_that_is_not_a_contact_list_is_refused_with_a_reason(raw, reason):
    with pytest.raises(imports.InvalidFile, match=reason):
        imports.read_file(raw)


def test_ragged_rows_are_read_without_shifting_columns():
    parsed = imports.read_file(b"phone,name,form\n+12025550101\n+12025550102,Ben,F-2,extra,more\n")
    assert [(r.phone, r.name, r.evidence) for r in parsed.rows] == [
        ("+12025550101", "", {}),
        ("+12025550102", "Ben", {"form": "F-2"}),
    ]


def test_the_import_report_defuses_every_formula(agency_a):
    TopicFactory(agency=agency_a, slug="alerts")
    lines = [f'(202) 555-01{n:02d},"{f}",alerts' for n, f in enumerate(FORMULAS)]
    lines += [f'"{f}",Name,alerts' for f in FORMULAS]  # as the phone: invalid, still echoed
    raw = ("phone,name,topic\n" + "\n".join(lines) + "\n").encode()
    with agency_scope(agency_a):
        consent_import = imports.preview(
            actor=Actor.system("test"), agency=agency_a, user=None, filename="x.csv", raw=raw
        )
        report = list(imports.report_lines(consent_import))
    cells = [cell for line in report[1:] for cell in line]
    assert not [c for c in cells if _runs_as_formula(c)]
    assert "'=cmd|' /C calc'!A0" in cells
    assert "(202) 555-0100" in cells  # numbers are echoed as written


def test_the_history_export_defuses_formulas_in_evidence(admin_client, agency_a):
    contact = ContactFactory(agency=agency_a, profile_name="=cmd|' /C calc'!A0")
    ConsentFactory(agency=agency_a, contact=contact, evidence={"note": "=cmd|' /C calc'!A0"})
    response = admin_client.get(reverse("contacts:export_csv", args=[contact.pk]))
    assert not [c for line in _cells(response.content) for c in line if _runs_as_formula(c)]


def test_markup_in_a_name_is_shown_as_text(admin_client, agency_a):
    contact = ContactFactory(agency=agency_a, profile_name="<script>alert(1)</script>")
    for url in [reverse("contacts:directory"), reverse("contacts:contact", args=[contact.pk])]:
        body = admin_client.get(url).content.decode()
        assert "<script>alert(1)</script>" not in body
        assert "&lt;script&gt;alert(1)&lt;/script&gt;" in body


def test_an_oversized_upload_is_refused_before_it_is_read(admin_client, agency_a, monkeypatch):
    monkeypatch.setattr(imports, "MAX_BYTES", 100)
    upload = SimpleUploadedFile("big.csv", b"phone\n" + b"+12025550101\n" * 20)
    response = admin_client.post(reverse("contacts:imports"), {"file": upload})
    assert response.status_code == 400
    assert "larger than" in response.content.decode()
    with agency_scope(agency_a):
        assert not ConsentImport.objects.exists()


def test_the_public_form_needs_its_csrf_token(agency_a, number):
    TopicFactory(agency=agency_a, slug="alerts")
    client = Client(enforce_csrf_checks=True)
    page = client.get("/optin/agency-a/alerts/")
    assert page.status_code == 200
    response = client.post("/optin/agency-a/alerts/", {"phone": "(202) 555-0123", "agree": "on"})
    assert response.status_code == 403
    with agency_scope(agency_a):
        assert not Consent.objects.exists()


def test_a_token_for_another_topic_is_refused(client, agency_a, number):
    TopicFactory(agency=agency_a, slug="alerts")
    other = TopicFactory(agency=agency_a, slug="news")
    token = public.issue_token(other, "en")
    response = client.post(
        "/optin/agency-a/alerts/", {"token": token, "phone": "(202) 555-0123", "agree": "on"}
    )
    assert response.status_code == 400
    with agency_scope(agency_a):
        assert not Consent.objects.exists()
