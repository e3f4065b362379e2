"""The records API's endpoints (exports, public-records requests, their productions) in the
authorization matrix of ``tests/api/matrix.py``."""

from __future__ import annotations

import pytest
from django.core.files.base import ContentFile
from django.core.files.storage import default_storage

from records.exports.models import ExportJob
from records.foia import services
from tenants.api.scopes import Scope
from tests.api.matrix import CASES, Endpoint, check
from tests.records.api.conftest import produced
from tests.records.foia.conftest import federal, new_request

R = Scope.RECORDS_EXPORT


@pytest.fixture(autouse=True)
def media_root(settings, tmp_path):
    settings.MEDIA_ROOT = str(tmp_path / "media")


def a_job(agency) -> list[int]:
    return [ExportJob.objects.create(agency=agency, format="csv").pk]


def a_built_job(agency) -> list[int]:
    key = default_storage.save(f"agencies/{agency.pk}/exports/p.zip", ContentFile(b"PK\x05\x06"))
    job = ExportJob.objects.create(
        agency=agency, format="csv", status="done", storage_key=key, package_name="p"
    )
    return [job.pk]


def jobs(agency) -> list[int]:
    a_job(agency)
    return []


def new_export(agency, args) -> dict[str, object]:
    return {"format": "csv", "selection": {"query": "permit"}}


def jurisdictions(agency) -> list[int]:
    federal(agency)
    return []


def a_request(agency) -> list[int]:
    return [new_request(agency, federal(agency)).pk]


def requests(agency) -> list[int]:
    a_request(agency)
    return []


def intake(agency, args) -> dict[str, object]:
    return {
        "requester_name": "Pat Reporter",
        "requester_contact": "pat@news.example",
        "received_on": services.agency_today(agency).isoformat(),
        "description": "Messages about the water main break.",
        "jurisdiction": federal(agency).pk,
    }


def a_production(agency) -> list[int]:
    request = new_request(agency, federal(agency))
    return [request.pk, produced(agency, request).pk]


ENDPOINTS = [
    Endpoint("api-exports", "GET", R, target=jobs),
    Endpoint("api-exports", "POST", R, body=new_export, expect=202),
    Endpoint("api-export", "GET", R, target=a_job),
    Endpoint("api-export-download", "GET", R, target=a_built_job),
    Endpoint("api-records-jurisdictions", "GET", R, target=jurisdictions),
    Endpoint("api-records-requests", "GET", R, target=requests),
    # B's credential names A's jurisdiction: not one of B's.
    Endpoint("api-records-requests", "POST", R, body=intake, expect=201, wrong_agency=400),
    Endpoint("api-records-request", "GET", R, target=a_request),
    Endpoint("api-records-productions", "GET", R, target=a_request),
    Endpoint("api-records-production-download", "GET", R, target=a_production),
]


@pytest.mark.parametrize("endpoint", ENDPOINTS, ids=str)
@pytest.mark.parametrize("case", CASES)
def test_authorization_matrix(client, agency_a, agency_b, endpoint, case):
    check(client, agency_a, agency_b, endpoint, case)
