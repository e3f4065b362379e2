"""The records API: export jobs and public-records requests, over the same services and
selectors as the records officers' pages (``records.exports``, ``records.foia``).

Everything needs the scope ``records:export`` (staff sessions: ``manage_records``). An
export is the UI's export job: the same ``Selection``, ``request_export`` and Celery job,
the same signed package. A records request is created, followed and its productions
downloaded here; the review (search, decisions, redactions) and asking for a production
stay in the UI, where a records officer reads every message. A credential acts as itself
(``Actor.from_request``: the audit trail names the key).
"""

from __future__ import annotations

import json
from typing import Any

from django.http import FileResponse, Http404
from django.urls import reverse
from drf_spectacular.types import OpenApiTypes
from drf_spectacular.utils import OpenApiExample, OpenApiResponse, extend_schema
from rest_framework import generics, renderers
from rest_framework import serializers as drf
from rest_framework.request import Request
from rest_framework.response import Response

from records.api import serializers as io
from records.audit import Actor
from records.exports import selectors as export_selectors
from records.exports import services as export_services
from records.exports.models import ExportJob
from records.foia import selectors as foia_selectors
from records.foia import services as foia_services
from records.foia.errors import RequestError
from records.foia.models import Production, RecordsRequest
from tenants.api.idempotency import idempotent
from tenants.api.pagination import CursorPagination
from tenants.api.problems import PROBLEM_CONTENT_TYPE, problem
from tenants.api.schema import IDEMPOTENCY_KEY, ApiAutoSchema, ProblemSerializer
from tenants.api.scopes import Scope
from tenants.http import agency_request, request_agency
from tenants.models import Agency
from tenants.permissions import Perm

EXPORT_EXAMPLE: dict[str, Any] = {
    "id": 31,
    "status": "done",
    "format": "rsmf",
    "title": "Matter 2026-114",
    "selection": {"contact": "+14155550100", "since": "2026-03-01T00:00:00+00:00"},
    "bates_prefix": "DMV-",
    "bates_start": 1,
    "bates_first": "DMV-0000001",
    "bates_last": "DMV-0000214",
    "progress": {"processed": 214, "total": 214, "percent": 100},
    "package_name": "demo-county-rsmf-3f2a9c0d1b7e",
    "size_bytes": 1843221,
    "sha256": "9c1185a5c5e9fc54612808977ee8f548b2258d31e0b4c7f1a3e7f7e1f9a0b2c4",
    "tagmanifest_sha256": "4d9f2e0c7b1a6e3d5f8c9b0a1e2d3c4b5a69788796a5b4c3d2e1f0a9b8c7d6e5",
    "error": "",
    "created_at": "2026-12-03T14:00:00Z",
    "started_at": "2026-12-03T14:00:01Z",
    "finished_at": "2026-12-03T14:00:09Z",
    "links": {
        "self": "https://relay.example.gov/api/v1/exports/31/",
        "download": "https://relay.example.gov/api/v1/exports/31/download",
    },
}
QUEUED_EXAMPLE: dict[str, Any] = {
    **EXPORT_EXAMPLE,
    "status": "queued",
    "bates_first": "",
    "bates_last": "",
    "progress": {"processed": 0, "total": None, "percent": 0},
    "package_name": "",
    "size_bytes": None,
    "sha256": "",
    "tagmanifest_sha256": "",
    "started_at": None,
    "finished_at": None,
    "links": {"self": "https://relay.example.gov/api/v1/exports/31/", "download": None},
}
JURISDICTION_EXAMPLE: dict[str, Any] = {
    "id": 4,
    "name": "Federal FOIA",
    "response_days": 20,
    "extension_days": 10,
    "routing_days": 10,
    "citation": "5 U.S.C. 552(a)(6)",
}
REQUEST_EXAMPLE: dict[str, Any] = {
    "id": 12,
    "number": "2026-0007",
    "status": "in_review",
    "requester_name": "Pat Reporter",
    "requester_contact": "pat@news.example",
    "description": "Messages about the water main break on Elm St.",
    "jurisdiction": JURISDICTION_EXAMPLE,
    "received_on": "2026-11-20",
    "first_received_on": None,
    "clock": {
        "due_on": "2026-12-29",
        "allowed_working_days": 30,
        "used_working_days": 9,
        "remaining_working_days": 21,
        "paused_since": None,
        "overdue": False,
        "due_soon": False,
    },
    "clock_events": [
        {"kind": "extension", "on": "2026-11-30", "days": 10, "reason": "Unusual volume."}
    ],
    "items": {
        "total": 40,
        "produced": 12,
        "by_decision": {"pending": 3, "responsive": 11, "not_responsive": 25, "withheld": 1},
    },
    "created_at": "2026-11-20T15:02:00Z",
    "closed_at": None,
    "links": {
        "self": "https://relay.example.gov/api/v1/records-requests/12/",
        "productions": "https://relay.example.gov/api/v1/records-requests/12/productions/",
    },
}
PRODUCTION_EXAMPLE: dict[str, Any] = {
    "id": 5,
    "status": "done",
    "format": "pdf",
    "item_count": 12,
    "redaction_count": 4,
    "bates_prefix": "REQ2026-0007-",
    "bates_first": "REQ2026-0007-0000001",
    "bates_last": "REQ2026-0007-0000012",
    "tagmanifest_sha256": "1b4f0e9832a7c6d5e4f3a2b1c0d9e8f7a6b5c4d3e2f1a0b9c8d7e6f5a4b3c2d1",
    "error": "",
    "created_at": "2026-12-02T10:00:00Z",
    "finished_at": "2026-12-02T10:00:04Z",
    "links": {
        "download": "https://relay.example.gov/api/v1/records-requests/12/productions/5/download"
    },
}


def _list_example(item: dict[str, Any]) -> dict[str, Any]:
    return item  # drf-spectacular wraps it in the page envelope


def _problem_answer(status: int, code: str, detail: str) -> OpenApiResponse:
    example = problem(status=status, code=code, detail=detail, instance="/api/v1/...")
    return OpenApiResponse(
        response=ProblemSerializer,
        description=f"Problem details (`{code}`).",
        examples=[OpenApiExample(code, value=example, status_codes=[str(status)])],
    )


def _zip_answer(description: str) -> OpenApiResponse:
    example = OpenApiExample(
        "ZIP",
        summary="A ZIP file (binary)",
        value="PK... (the ZIP file's bytes)",
        media_type="application/zip",
        status_codes=["200"],
    )
    return OpenApiResponse(
        response=OpenApiTypes.BINARY, description=description, examples=[example]
    )


class ZipRenderer(renderers.BaseRenderer):
    """Lets a client ask for ``Accept: application/zip``; the package itself is a
    ``FileResponse`` (not rendered), an error answer is its problem document in JSON."""

    media_type = "application/zip"
    format = "zip"

    def render(
        self, data: Any, accepted_media_type: Any = None, renderer_context: Any = None
    ) -> Any:
        return b"" if data is None else json.dumps(data).encode()


class DownloadSchema(ApiAutoSchema):
    """A download answers a ZIP or a problem: no ``?format=`` to choose between them."""

    def _get_format_parameters(self) -> list[dict[str, Any]]:
        return []


def _agency(request: Request) -> Agency:
    return request_agency(request)


def _actor(request: Request) -> Actor:
    return Actor.from_request(agency_request(request))


def _url(request: Request, name: str, *args: Any) -> str:
    return request.build_absolute_uri(reverse(name, args=args))


def _checked(pk: int) -> int:
    if not 0 < pk < io.MAX_ID:
        raise Http404
    return pk


class ById(CursorPagination):
    ordering = "-id"


# --- Exports ------------------------------------------------------------------------------


def _job(request: Request, pk: int) -> ExportJob:
    found = export_selectors.job(_agency(request).pk, _checked(pk))
    if found is None:
        raise Http404
    return found


def _export(request: Request, job: ExportJob) -> dict[str, Any]:
    links: dict[str, str | None] = {
        "self": _url(request, "api-export", job.pk),
        "download": _url(request, "api-export-download", job.pk)
        if job.status == ExportJob.Status.DONE
        else None,
    }
    return io.ExportSerializer(io.export_data(job, links)).data


class RecordsApi(generics.GenericAPIView[Any]):
    schema = ApiAutoSchema()
    required_perm = Perm.MANAGE_RECORDS
    required_scope = Scope.RECORDS_EXPORT


class ExportListApi(RecordsApi):
    pagination_class = ById
    serializer_class = io.ExportSerializer

    @extend_schema(
        summary="The agency's export jobs, newest first (records:export)",
        responses=io.ExportSerializer(many=True),
        examples=[OpenApiExample("Jobs", value=_list_example(EXPORT_EXAMPLE), response_only=True)],
    )
    def get(self, request: Request) -> Response:
        page = self.paginate_queryset(export_selectors.jobs(_agency(request).pk))
        return self.get_paginated_response([_export(request, job) for job in page or []])

    @extend_schema(
        summary="Ask for an export package (records:export)",
        description=(
            "Queues the same export job as the records officers' Exports page: the messages "
            "the `selection` names (every criterion narrows; none is every message of the "
            "agency) in one `format`, as a signed BagIt package. Answers `202` with the "
            "job; follow `links.self` until `status` is `done` (or `failed`), then "
            "download `links.download`. An id of the selection that is not the agency's "
            "(a hold, label, number or conversation) is a `400`."
        ),
        request=io.ExportCreateSerializer,
        responses={202: io.ExportSerializer},
        parameters=[IDEMPOTENCY_KEY],
        examples=[
            OpenApiExample(
                "One citizen's messages since March, as RSMF",
                value={
                    "format": "rsmf",
                    "selection": {"contact": "+14155550100", "since": "2026-03-01T00:00:00Z"},
                    "title": "Matter 2026-114",
                    "bates_prefix": "DMV-",
                },
                request_only=True,
            ),
            OpenApiExample(
                "Queued", value=QUEUED_EXAMPLE, response_only=True, status_codes=["202"]
            ),
        ],
    )
    @idempotent
    def post(self, request: Request) -> Response:
        body = io.ExportCreateSerializer(data=request.data)
        body.is_valid(raise_exception=True)
        data = body.validated_data
        agency = _agency(request)
        selection = io.selection_of(data.get("selection") or {})
        unknown = export_selectors.unknown_selection_ids(agency.pk, selection)
        if unknown:
            raise drf.ValidationError({"selection": {k: [v] for k, v in unknown.items()}})
        django_request = agency_request(request)
        job = export_services.request_export(
            agency.pk,
            selection=selection,
            fmt=data["format"],
            title=data["title"],
            bates_prefix=data["bates_prefix"],
            bates_start=data["bates_start"],
            requested_by_id=None if django_request.api_credential else request.user.pk,
            actor=_actor(request),
        )
        return Response(_export(request, job), status=202)


class ExportDetailApi(RecordsApi):
    @extend_schema(
        summary="One export job: status, progress, SHA-256 and size (records:export)",
        responses=io.ExportSerializer,
        examples=[OpenApiExample("Done", value=EXPORT_EXAMPLE, response_only=True)],
    )
    def get(self, request: Request, pk: int) -> Response:
        return Response(_export(request, _job(request, pk)))


class ExportDownloadApi(RecordsApi):
    schema = DownloadSchema()
    renderer_classes = [renderers.JSONRenderer, ZipRenderer]

    @extend_schema(
        summary="Download an export's package (records:export)",
        description=(
            "The signed package as a ZIP (a BagIt bag: its manifests, the detached signature "
            "and the files); its SHA-256 is the job's `sha256`. Verify it with "
            "`manage.py records_verify_export <zip>` or any BagIt tool. The download is "
            "audited (`records.export_downloaded`). Before the job is done: `409` "
            "`export_not_ready`; a failed job: `409` `export_failed`."
        ),
        responses={
            (200, "application/zip"): _zip_answer("The package (ZIP)."),
            (409, PROBLEM_CONTENT_TYPE): _problem_answer(
                409, "export_not_ready", "Export 31 is building: its package is not ready."
            ),
            (410, PROBLEM_CONTENT_TYPE): _problem_answer(
                410, "export_package_missing", "The package of export 31 is no longer stored."
            ),
        },
    )
    def get(self, request: Request, pk: int) -> FileResponse:
        job = _job(request, pk)
        handle = export_services.open_package(job, actor=_actor(request))
        return FileResponse(handle, as_attachment=True, filename=f"{job.package_name}.zip")


# --- Public-records requests --------------------------------------------------------------


class JurisdictionListApi(RecordsApi):
    pagination_class = ById
    serializer_class = io.JurisdictionSerializer

    @extend_schema(
        summary="The agency's jurisdictions: the laws a request is answered under (records:export)",
        description="Set up on the Rules page of Records requests. A new request names one.",
        responses=io.JurisdictionSerializer(many=True),
        examples=[
            OpenApiExample(
                "Jurisdictions", value=_list_example(JURISDICTION_EXAMPLE), response_only=True
            )
        ],
    )
    def get(self, request: Request) -> Response:
        page = self.paginate_queryset(foia_selectors.jurisdictions(_agency(request)))
        return self.get_paginated_response([io.jurisdiction_data(j) for j in page or []])


def _records_request(request: Request, pk: int) -> RecordsRequest:
    try:
        return foia_selectors.request(_agency(request), _checked(pk))
    except RecordsRequest.DoesNotExist:
        raise Http404 from None


def _request_data(
    request: Request, row: foia_selectors.RequestRow, *, detail: bool = False
) -> dict[str, Any]:
    rr, clock = row.request, row.clock
    data: dict[str, Any] = {
        "id": rr.pk,
        "number": rr.number,
        "status": rr.status,
        "requester_name": rr.requester_name,
        "requester_contact": rr.requester_contact,
        "description": rr.description,
        "jurisdiction": io.jurisdiction_data(rr.jurisdiction),
        "received_on": rr.received_on,
        "first_received_on": rr.first_received_on,
        "clock": {
            "due_on": clock.due_on,
            "allowed_working_days": clock.allowed,
            "used_working_days": clock.used,
            "remaining_working_days": clock.remaining,
            "paused_since": clock.paused_since,
            "overdue": row.overdue,
            "due_soon": row.due_soon,
        },
        "items": {"total": row.items, "produced": row.responsive},
        "created_at": rr.created_at,
        "closed_at": rr.closed_at,
        "links": {
            "self": _url(request, "api-records-request", rr.pk),
            "productions": _url(request, "api-records-productions", rr.pk),
        },
    }
    if detail:
        data["clock_events"] = [
            {"kind": e.kind, "on": e.on, "days": e.days, "reason": e.reason}
            for e in foia_selectors.clock_events(rr)
        ]
        data["items"]["by_decision"] = foia_selectors.decision_counts(rr)
    return io.RecordsRequestSerializer(data).data


def _row(request: Request, pk: int) -> foia_selectors.RequestRow:
    row = foia_selectors.request_row(_agency(request), _checked(pk))
    if row is None:
        raise Http404
    return row


class RecordsRequestListApi(RecordsApi):
    pagination_class = ById
    serializer_class = io.RecordsRequestSerializer

    @extend_schema(
        summary="The agency's public-records requests, newest first (records:export)",
        description="Each with its clock as of the agency's today (working days).",
        responses=io.RecordsRequestSerializer(many=True),
        examples=[
            OpenApiExample("Requests", value=_list_example(REQUEST_EXAMPLE), response_only=True)
        ],
    )
    def get(self, request: Request) -> Response:
        agency = _agency(request)
        page = self.paginate_queryset(foia_selectors.requests(agency))
        rows = foia_selectors.request_rows(agency, list(page or []))
        return self.get_paginated_response([_request_data(request, row) for row in rows])

    @extend_schema(
        summary="Record a public-records request (records:export)",
        description=(
            "The intake of the Records requests page: the request gets its tracking number "
            "and its due date (the jurisdiction's working days from `received_on`, skipping "
            "weekends and the agency's holidays). The search, review, redaction and "
            "production stay in the UI, where a records officer reads each message; follow "
            "the request here and download its productions. A refusal (a date in the "
            "future, another agency's jurisdiction) is a `400` naming the field."
        ),
        request=io.RecordsRequestCreateSerializer,
        responses={201: io.RecordsRequestSerializer},
        parameters=[IDEMPOTENCY_KEY],
        examples=[
            OpenApiExample(
                "Intake",
                value={
                    "requester_name": "Pat Reporter",
                    "requester_contact": "pat@news.example",
                    "received_on": "2026-11-20",
                    "description": "Messages about the water main break on Elm St.",
                    "jurisdiction": 4,
                },
                request_only=True,
            ),
            OpenApiExample(
                "Recorded",
                value={
                    **REQUEST_EXAMPLE,
                    "status": "received",
                    "clock_events": [],
                    "items": {
                        "total": 0,
                        "produced": 0,
                        "by_decision": {
                            "pending": 0,
                            "responsive": 0,
                            "not_responsive": 0,
                            "withheld": 0,
                        },
                    },
                },
                response_only=True,
                status_codes=["201"],
            ),
        ],
    )
    @idempotent
    def post(self, request: Request) -> Response:
        body = io.RecordsRequestCreateSerializer(data=request.data)
        body.is_valid(raise_exception=True)
        data = dict(body.validated_data)
        agency = _agency(request)
        jurisdiction = foia_selectors.jurisdiction(agency, data.pop("jurisdiction"))
        if jurisdiction is None:
            raise drf.ValidationError({"jurisdiction": ["No jurisdiction with this id."]})
        django_request = agency_request(request)
        try:
            created = foia_services.create_request(
                agency,
                actor=_actor(request),
                created_by=None if django_request.api_credential else request.user,
                jurisdiction=jurisdiction,
                **data,
            )
        except RequestError as exc:
            if exc.field is None:
                raise
            raise drf.ValidationError({exc.field: [str(exc)]}) from exc
        return Response(_request_data(request, _row(request, created.pk), detail=True), 201)


class RecordsRequestDetailApi(RecordsApi):
    @extend_schema(
        summary="One public-records request: status, due date, clock, item counts (records:export)",
        responses=io.RecordsRequestSerializer,
        examples=[OpenApiExample("Request", value=REQUEST_EXAMPLE, response_only=True)],
    )
    def get(self, request: Request, pk: int) -> Response:
        return Response(_request_data(request, _row(request, pk), detail=True))


def _production_data(
    request: Request, rr: RecordsRequest, production: Production
) -> dict[str, Any]:
    done = production.status == Production.Status.DONE
    link = _url(request, "api-records-production-download", rr.pk, production.pk)
    return io.ProductionSerializer(io.production_data(production, link if done else None)).data


class ProductionListApi(RecordsApi):
    pagination_class = ById
    serializer_class = io.ProductionSerializer

    @extend_schema(
        summary="A request's productions: the packages produced for it (records:export)",
        description="A production is asked for in the UI, after the review.",
        responses=io.ProductionSerializer(many=True),
        examples=[
            OpenApiExample(
                "Productions", value=_list_example(PRODUCTION_EXAMPLE), response_only=True
            )
        ],
    )
    def get(self, request: Request, pk: int) -> Response:
        rr = _records_request(request, pk)
        page = self.paginate_queryset(foia_selectors.productions(rr))
        return self.get_paginated_response([_production_data(request, rr, p) for p in page or []])


class ProductionDownloadApi(RecordsApi):
    schema = DownloadSchema()
    renderer_classes = [renderers.JSONRenderer, ZipRenderer]

    @extend_schema(
        summary="Download a production (records:export)",
        description=(
            "A ZIP of the signed package (Bates-numbered, redactions burned in) and its "
            "redaction log, as the UI's download. The download is audited "
            "(`records_request.production_downloaded`). Not built yet (or failed): `409` "
            "`production_not_ready`."
        ),
        responses={
            (200, "application/zip"): _zip_answer("The production (ZIP)."),
            (409, PROBLEM_CONTENT_TYPE): _problem_answer(
                409, "production_not_ready", "Production 5 is building: no package to download."
            ),
            (410, PROBLEM_CONTENT_TYPE): _problem_answer(
                410,
                "production_package_missing",
                "The package of production 5 is no longer on disk.",
            ),
        },
    )
    def get(self, request: Request, pk: int, production: int) -> FileResponse:
        rr = _records_request(request, pk)
        found = foia_selectors.production(rr, _checked(production))
        if found is None:
            raise Http404
        name, archive = foia_services.production_archive(found, actor=_actor(request))
        return FileResponse(archive, as_attachment=True, filename=f"{name}.zip")
