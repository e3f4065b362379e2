"""The production package: the responsive messages with the request's redactions burned in
and Bates numbers stamped. The redacted text is absent from every byte of the package, in
every format, decoded as any reader would decode it."""

from __future__ import annotations

import csv
from pathlib import Path

import pypdf
import pytest

from messaging.models import MediaObject
from records.foia import services, tasks
from records.foia.errors import RequestError
from records.foia.models import Production, RecordsRequest, RequestItem
from records.models import AuditEvent
from tenants.scoping import agency_scope
from tests.factories import InboundMessageFactory
from tests.records.foia.conftest import ACTOR
from tests.records.foia.package_bytes import occurrences, package_blobs

pytestmark = pytest.mark.django_db
SSN = "123-45-6789"
NAME = "Maria Lopez"
WITHHELD = "deliberations about the settlement"
NOT_RESPONSIVE = "lunch order for the crew"


@pytest.fixture(autouse=True)
def productions_dir(settings, tmp_path):
    settings.RECORDS_PRODUCTIONS_DIR = str(tmp_path / "productions")


@pytest.fixture
def reviewed(request_a, say, agency_a, conversation_a):
    """A review set: two responsive messages with redactions, one withheld in full, one not
    responsive, and an image whose file is withheld."""
    first = say(f"Hello, my SSN is {SSN} and my name is {NAME}.")
    second = say(f"{NAME} reported the water main break on Elm St.")
    withheld = say(f"Internal: {WITHHELD}.")
    other = say(NOT_RESPONSIVE)
    with agency_scope(agency_a):
        media = MediaObject.objects.create(
            agency=agency_a,
            phone_number=conversation_a.phone_number,
            meta_media_id="m9",
            kind="image",
        )
    image = InboundMessageFactory(
        agency=agency_a,
        conversation=conversation_a,
        type="image",
        content={"type": "image", "image": {"id": "m9", "caption": "photo of the break"}},
        media=media,
    )
    decisions = {
        first: "responsive",
        second: "responsive",
        withheld: "withheld",
        other: "not_responsive",
        image: "responsive",
    }
    with agency_scope(agency_a):
        items = {
            m.pk: RequestItem.objects.create(
                agency=agency_a,
                request=request_a,
                message=m,
                decision=d,
                withheld_code="(b)(5)" if d == "withheld" else "",
            )
            for m, d in decisions.items()
        }
    start = first.content["text"]["body"].index(SSN)
    services.redact_span(
        request_a,
        actor=ACTOR,
        item_id=items[first.pk].pk,
        start=start,
        end=start + len(SSN),
        code="(b)(6)",
    )
    services.redact_phrase(request_a, actor=ACTOR, phrase=NAME.upper(), code="(b)(6)")
    services.withhold_media(request_a, actor=ACTOR, item_id=items[image.pk].pk, code="(b)(7)(C)")
    return request_a


@pytest.mark.parametrize("fmt", ["jsonl", "csv", "eml", "mbox", "rsmf", "pdf"])
def test_no_redacted_text_is_in_any_byte_of_the_package(reviewed, fmt):
    production = services.produce(
        reviewed, actor=ACTOR, fmt=fmt, bates_prefix="REQ1-", bates_start=1
    )
    root = Path(production.path).parent  # the signed package and its redaction log
    assert list(package_blobs(root))
    for secret in (SSN, NAME, "maria lopez", WITHHELD, NOT_RESPONSIVE):
        assert occurrences(root, secret) == [], f"{secret!r} found in the {fmt} package"
    assert occurrences(root, "reported the water main break")  # the kept words are there
    assert occurrences(root, "[REDACTED (b)(6)]")  # the code at the place of deletion
    assert occurrences(root, "REQ1-")  # Bates numbers


def test_the_pdf_transcript_shows_the_codes_and_not_the_redacted_words(reviewed):
    production = services.produce(
        reviewed, actor=ACTOR, fmt="pdf", bates_prefix="REQ1-", bates_start=1
    )
    root = Path(production.path)
    pdfs = sorted(root.rglob("*.pdf"))
    text = "".join(page.extract_text() for pdf in pdfs for page in pypdf.PdfReader(pdf).pages)
    assert "(b)(6)" in text
    assert "water main break" in text
    assert SSN not in text and NAME not in text and WITHHELD not in text


def test_a_production_records_its_bates_range_and_moves_the_status(reviewed, agency_a):
    production = services.produce(
        reviewed, actor=ACTOR, fmt="jsonl", bates_prefix="REQ1-", bates_start=7
    )
    assert production.item_count == 4  # two responsive, one image, one withheld in full
    assert production.bates_first.startswith("REQ1-") and production.bates_first.endswith("7")
    assert production.bates_last > production.bates_first
    with agency_scope(agency_a):
        assert RecordsRequest.objects.get(pk=reviewed.pk).status == "production_ready"


def test_producing_with_messages_not_yet_reviewed_is_refused(request_a, say, agency_a):
    with agency_scope(agency_a):
        RequestItem.objects.create(agency=agency_a, request=request_a, message=say("hi"))
    with pytest.raises(RequestError, match="Review every message"):
        services.produce(request_a, actor=ACTOR, fmt="jsonl", bates_prefix="R-", bates_start=1)


@pytest.mark.parametrize(
    ("prefix", "start", "words"),
    [
        ("", 1, "Bates prefix"),
        ("A B", 1, "Bates prefix"),
        ("x" * 21, 1, "Bates prefix"),
        ("R-", 0, "start at 1"),
    ],
)
def test_a_bad_bates_prefix_or_start_is_refused(reviewed, prefix, start, words):
    with pytest.raises(RequestError, match=words):
        services.produce(reviewed, actor=ACTOR, fmt="jsonl", bates_prefix=prefix, bates_start=start)


@pytest.mark.parametrize("fmt", ["jsonl", "csv", "eml", "mbox", "rsmf", "pdf"])
def test_the_byte_search_finds_words_that_were_not_redacted(request_a, say, agency_a, fmt):
    """The control: the same search sees a phrase left in, in every format."""
    message = say(f"Unredacted {SSN} stays.")
    with agency_scope(agency_a):
        RequestItem.objects.create(
            agency=agency_a, request=request_a, message=message, decision="responsive"
        )
    production = services.produce(request_a, actor=ACTOR, fmt=fmt, bates_prefix="C-", bates_start=1)
    assert occurrences(Path(production.path), SSN)


def test_the_next_production_continues_the_bates_numbers_of_its_prefix(reviewed):
    first = services.produce(
        reviewed, actor=ACTOR, fmt="jsonl", bates_prefix="REQ1-", bates_start=1
    )
    following = services.next_bates_start(reviewed, "REQ1-")
    assert following == int(first.bates_last.removeprefix("REQ1-")) + 1
    assert services.next_bates_start(reviewed, "OTHER-") == 1


def test_the_redaction_log_lists_each_redaction_with_its_code_and_never_the_words(reviewed):
    production = services.produce(
        reviewed, actor=ACTOR, fmt="jsonl", bates_prefix="REQ1-", bates_start=1
    )
    log = Path(production.path).parent / services.REDACTION_LOG
    rows = list(csv.DictReader(log.open(encoding="utf-8")))
    assert sorted((r["what"], r["exemption_code"], r["characters_withheld"]) for r in rows) == [
        ("media file", "(b)(7)(C)", ""),
        ("text", "(b)(6)", "11"),  # the SSN
        ("text", "(b)(6)", "11"),  # the name, in the first message
        ("text", "(b)(6)", "11"),  # and in the second
        ("whole message", "(b)(5)", ""),
    ]
    text = log.read_text()
    assert SSN not in text and NAME not in text and WITHHELD not in text


@pytest.mark.parametrize("fmt", ["jsonl", "rsmf", "pdf"])
def test_an_edited_messages_earlier_versions_do_not_carry_the_redacted_text(
    request_a, say, agency_a, fmt
):
    edited = say(
        f"My SSN is {SSN}",
        content_history=[
            {
                "content": {
                    "type": "text",
                    "text": {"body": f"My SSN is {SSN}, sorry for the typo"},
                },
                "at": "2026-01-05T10:00:00+00:00",
                "edit_wamid": "wamid.edit1",
            }
        ],
    )
    with agency_scope(agency_a):
        item = RequestItem.objects.create(
            agency=agency_a, request=request_a, message=edited, decision="responsive"
        )
    current = f"My SSN is {SSN}, sorry for the typo"
    start = current.index(SSN)
    services.redact_span(
        request_a, actor=ACTOR, item_id=item.pk, start=start, end=start + len(SSN), code="(b)(6)"
    )
    production = services.produce(request_a, actor=ACTOR, fmt=fmt, bates_prefix="E-", bates_start=1)
    root = Path(production.path).parent
    assert occurrences(root, SSN) == []
    assert occurrences(root, "sorry for the typo")


def test_asking_for_a_production_queues_it_with_what_was_asked_and_sends_the_task(
    reviewed, django_capture_on_commit_callbacks
):
    with django_capture_on_commit_callbacks(execute=False) as callbacks:
        production = services.request_production(
            reviewed, actor=ACTOR, fmt="jsonl", bates_prefix="REQ1-", bates_start=1
        )
    assert len(callbacks) == 1  # tasks.build_production.delay, after commit
    assert (production.status, production.path) == ("queued", "")
    assert production.redaction_count == 5  # SSN, the name twice, the file, the withheld one
    assert len(production.message_ids) == 4


def test_the_task_builds_a_queued_production_once(reviewed):
    production = services.request_production(
        reviewed, actor=ACTOR, fmt="jsonl", bates_prefix="REQ1-", bates_start=1
    )
    tasks.build_production.apply(kwargs={"production_id": production.pk})
    with agency_scope(reviewed.agency_id):
        built = Production.objects.get(pk=production.pk)
    assert built.status == "done" and Path(built.path).is_dir()
    again = services.build_production(production.pk)
    assert again is not None and (again.status, again.finished_at) == ("done", built.finished_at)


def test_the_package_burns_in_the_redactions_as_they_stood_when_it_was_asked_for(reviewed):
    production = services.request_production(
        reviewed, actor=ACTOR, fmt="jsonl", bates_prefix="REQ1-", bates_start=1
    )
    with agency_scope(reviewed.agency_id):
        ids = list(reviewed.redactions.values_list("pk", flat=True))
    for pk in ids:  # someone removes every redaction while the package waits in the queue
        services.remove_redaction(reviewed, actor=ACTOR, redaction_id=pk)
    built = services.build_production(production.pk)
    assert built is not None
    assert occurrences(Path(built.path), SSN) == []


def test_a_failed_build_is_recorded_in_words_and_audited(reviewed, settings, tmp_path):
    blocker = tmp_path / "not-a-directory"
    blocker.write_text("x")
    settings.RECORDS_PRODUCTIONS_DIR = str(blocker)
    production = services.produce(
        reviewed, actor=ACTOR, fmt="jsonl", bates_prefix="REQ1-", bates_start=1
    )
    assert production.status == "failed" and production.error
    with agency_scope(reviewed.agency_id):
        assert AuditEvent.objects.filter(action="records_request.production_failed").exists()
    with pytest.raises(RequestError, match="Produce the records before closing"):
        services.set_status(reviewed, actor=ACTOR, status="closed")
