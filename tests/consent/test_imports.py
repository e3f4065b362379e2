"""CSV imports of opt-ins: a hostile file is read safely, the preview changes nothing, an
invalid file changes nothing, an opted-out citizen is never opted in again, and the commit
is done in resumable, idempotent batches."""

from __future__ import annotations

import pytest

from messaging.consent import imports
from messaging.consent.models import ConsentImport, ImportRow
from messaging.models import Consent, Contact
from records.audit import Actor
from tenants.scoping import agency_scope
from tests.consent.factories import TopicFactory
from tests.factories import ConsentFactory, ContactFactory, UserFactory

pytestmark = pytest.mark.django_db
Outcomes = ImportRow.Outcome
ACTOR = Actor.system("test")


def _preview(agency, raw: bytes, **kwargs) -> ConsentImport:
    with agency_scope(agency):
        return imports.preview(
            actor=ACTOR,
            agency=agency,
            user=kwargs.pop("user", None),
            filename="list.csv",
            raw=raw,
            **kwargs,
        )


def _outcomes(consent_import: ConsentImport) -> list[tuple[int, str]]:
    with agency_scope(consent_import.agency_id):
        return list(
            ImportRow.objects.filter(consent_import=consent_import)
            .order_by("row_number")
            .values_list("row_number", "outcome")
        )


def _commit(consent_import: ConsentImport, batch: int = imports.BATCH) -> None:
    with agency_scope(consent_import.agency_id):
        imports.start_commit(actor=ACTOR, consent_import=consent_import)
        while imports.commit_batch(consent_import.pk, batch=batch):
            pass


def _consents(agency) -> int:
    with agency_scope(agency):
        return Consent.objects.count()


# --- reading the file ----------------------------------------------------------------------


def test_utf8_with_a_bom_is_read_and_reported():
    parsed = imports.read_file("phone,name\n+12025550101,José\n".encode("utf-8-sig"))
    assert parsed.encoding == "utf-8-sig"
    assert parsed.columns["phone"] == "phone"  # the BOM is not part of the header
    assert parsed.rows[0].name == "José"


def test_utf16_with_a_bom_is_read():
    parsed = imports.read_file("phone,name\r\n+12025550101,Zoë\r\n".encode("utf-16"))
    assert parsed.encoding == "utf-16"
    assert parsed.rows[0].name == "Zoë"


def test_windows_1252_is_the_fallback_and_is_reported():
    parsed = imports.read_file("phone,name\n+12025550101,Muñoz\n".encode("cp1252"))
    assert parsed.encoding == "cp1252"
    assert parsed.rows[0].name == "Muñoz"


def test_a_binary_file_is_refused_with_a_reason():
    with pytest.raises(imports.InvalidFile, match="not text"):
        imports.read_file(b"\x81\x8d\x8f\x90\x9d" * 10)


def test_blank_lines_are_skipped_and_rows_keep_their_line_numbers():
    parsed = imports.read_file(b"phone\n\n+12025550101\n  ,  \n\n+12025550102\n")
    assert [(r.row_number, r.phone) for r in parsed.rows] == [
        (3, "+12025550101"),
        (6, "+12025550102"),
    ]


def test_nuls_are_stripped():
    parsed = imports.read_file(b"phone,name\n+1202555\x000101,A\x00na\n")
    assert (parsed.rows[0].phone, parsed.rows[0].name) == ("+12025550101", "Ana")


def test_a_file_without_a_phone_column_is_refused_naming_its_columns():
    with pytest.raises(imports.InvalidFile, match="“email”"):
        imports.read_file(b"email,name\na@example.gov,Ana\n")


def test_the_phone_column_can_be_chosen():
    parsed = imports.read_file(
        b"Celular del vecino,name\n+12025550101,Ana\n", overrides={"phone": "Celular del vecino"}
    )
    assert parsed.rows[0].phone == "+12025550101"


def test_a_huge_field_refuses_the_file():
    raw = b"phone,notes\n+12025550101," + b"x" * (imports.MAX_FIELD + 1) + b"\n"
    with pytest.raises(imports.InvalidFile, match="longer than"):
        imports.read_file(raw)


def test_other_columns_are_kept_as_evidence():
    parsed = imports.read_file(b"phone,signed_on,form\n+12025550101,2026-03-01,F-17\n")
    assert parsed.rows[0].evidence == {"signed_on": "2026-03-01", "form": "F-17"}


@pytest.mark.parametrize(
    ("written", "wa_id"),
    [
        ("(202) 555-0101", "12025550101"),
        ("+1 202 555 0101", "12025550101"),
        ("0044 20 7946 0958", "442079460958"),
        ("+52 1 55 1234 5678", "5215512345678"),  # WhatsApp's Mexican form
        ("555", None),
        ("call me", None),
    ],
)
def test_numbers_become_whatsapp_ids_in_the_agencys_region(written, wa_id):
    assert imports.to_wa_id(written, "US") == wa_id


# --- preview --------------------------------------------------------------------------------


def test_the_preview_reports_each_row_and_changes_nothing(agency_a):
    opted_out = ContactFactory(agency=agency_a, wa_id="12025550103")
    ConsentFactory(agency=agency_a, contact=opted_out, status=Consent.Status.OPTED_OUT)
    opted_in = ContactFactory(agency=agency_a, wa_id="12025550104")
    ConsentFactory(agency=agency_a, contact=opted_in)
    TopicFactory(agency=agency_a, slug="alerts")
    raw = (
        b"phone,name,topic\n"
        b"(202) 555-0101,Ana,\n"  # 2 will opt in
        b"202-555-0101,Ana again,\n"  # 3 duplicate of 2
        b"12345,Bad,\n"  # 4 invalid
        b"(202) 555-0103,Opted out,\n"  # 5 opted out earlier
        b"(202) 555-0104,Opted in,\n"  # 6 already in
        b"(202) 555-0105,Alerts,alerts\n"  # 7 will opt in (topic)
        b"(202) 555-0106,Unknown,parades\n"  # 8 unknown topic
    )
    consents_before = _consents(agency_a)
    with agency_scope(agency_a):
        contacts_before = Contact.objects.count()
    consent_import = _preview(agency_a, raw)
    assert _outcomes(consent_import) == [
        (2, Outcomes.WILL_OPT_IN),
        (3, Outcomes.DUPLICATE),
        (4, Outcomes.INVALID_NUMBER),
        (5, Outcomes.OPTED_OUT),
        (6, Outcomes.ALREADY_OPTED_IN),
        (7, Outcomes.WILL_OPT_IN),
        (8, Outcomes.UNKNOWN_TOPIC),
    ]
    assert consent_import.to_commit == 2
    assert _consents(agency_a) == consents_before
    with agency_scope(agency_a):
        assert Contact.objects.count() == contacts_before


def test_an_invalid_file_stores_nothing(agency_a):
    with pytest.raises(imports.InvalidFile):
        _preview(agency_a, b"")
    with agency_scope(agency_a):
        assert ConsentImport.objects.count() == 0


# --- commit ---------------------------------------------------------------------------------


def test_the_commit_records_opt_ins_with_the_files_evidence(agency_a):
    user = UserFactory(email="clerk@example.gov")
    raw = b"phone,name,form\n(202) 555-0101,Ana,F-1\n(202) 555-0102,Ben,F-2\n"
    consent_import = _preview(agency_a, raw, user=user)
    _commit(consent_import)
    with agency_scope(agency_a):
        consent = Consent.objects.get(contact__wa_id="12025550101")
        consent_import.refresh_from_db()
        assert Contact.objects.get(wa_id="12025550102").profile_name == "Ben"
    assert (consent.status, consent.source, consent.topic) == ("opted_in", "import", "")
    assert consent.evidence["file_sha256"] == consent_import.sha256
    assert consent.evidence["row"] == 2
    assert consent.evidence["uploaded_by"] == "clerk@example.gov"
    assert consent.evidence["columns"] == {"form": "F-1"}
    assert consent_import.status == ConsentImport.Status.COMMITTED
    assert consent_import.counts == {Outcomes.OPTED_IN: 2}


def test_a_citizen_who_opts_out_after_the_preview_is_not_opted_in(agency_a):
    citizen = ContactFactory(agency=agency_a, wa_id="12025550101")
    consent_import = _preview(agency_a, b"phone\n(202) 555-0101\n")
    ConsentFactory(agency=agency_a, contact=citizen, status=Consent.Status.OPTED_OUT)
    _commit(consent_import)
    assert _outcomes(consent_import) == [(2, Outcomes.OPTED_OUT)]
    with agency_scope(agency_a):
        assert not Consent.objects.filter(contact=citizen, status="opted_in").exists()


def test_a_commit_run_twice_or_resumed_records_each_row_once(agency_a):
    raw = b"phone\n" + b"".join(f"(202) 555-{n:04d}\n".encode() for n in range(100, 130))
    consent_import = _preview(agency_a, raw)
    with agency_scope(agency_a):
        imports.start_commit(actor=ACTOR, consent_import=consent_import)
        assert imports.commit_batch(consent_import.pk, batch=10)  # a worker dies after this
        imports.start_commit(actor=ACTOR, consent_import=consent_import)  # a second click
        imports.commit(consent_import.pk)
        imports.commit(consent_import.pk)  # a redelivered task
        assert Consent.objects.count() == 30
        assert Consent.objects.values("contact").distinct().count() == 30


def test_a_discarded_preview_cannot_be_committed(agency_a):
    consent_import = _preview(agency_a, b"phone\n(202) 555-0101\n")
    with agency_scope(agency_a):
        imports.discard(actor=ACTOR, consent_import=consent_import)
        with pytest.raises(imports.ApplicationError):
            imports.start_commit(actor=ACTOR, consent_import=consent_import)
    assert _consents(agency_a) == 0


def test_the_report_lists_every_row_and_defuses_formulas(agency_a):
    consent_import = _preview(agency_a, b"phone,name\n(202) 555-0101,=HYPERLINK(1)\nxx,B\n")
    with agency_scope(agency_a):
        lines = list(imports.report_lines(consent_import))
    assert lines[0] == imports.REPORT_HEADER
    assert lines[1][2] == "'=HYPERLINK(1)"
    assert lines[2][5] == "Not a valid phone number"


@pytest.mark.timeout(300)
def test_100k_rows_are_previewed_and_committed_whole(agency_a):
    """Correctness at size (the time is measured by bench/consent_import.py)."""
    raw = b"phone,name\n" + b"".join(
        f"+1 (202) {200 + n // 10000:03d}-{n % 10000:04d},Citizen {n}\n".encode()
        for n in range(100_000)
    )
    raw += b"+1 (202) 200-0000,Again\nnot a number,Bad\n"
    consent_import = _preview(agency_a, raw)
    assert consent_import.total_rows == 100_002
    assert consent_import.read_rows == 100_002
    assert consent_import.counts == {
        Outcomes.WILL_OPT_IN: 100_000,
        Outcomes.DUPLICATE: 1,
        Outcomes.INVALID_NUMBER: 1,
    }
    _commit(consent_import)
    with agency_scope(agency_a):
        consent_import.refresh_from_db()
        assert Contact.objects.count() == 100_000
        assert Consent.objects.filter(source=Consent.Source.IMPORT).count() == 100_000
        assert not ImportRow.objects.filter(
            consent_import=consent_import, outcome=Outcomes.WILL_OPT_IN
        ).exists()
        assert Consent.objects.get(contact__wa_id="12022009999").evidence["row"] == 10_001
    assert consent_import.status == ConsentImport.Status.COMMITTED
    assert consent_import.committed_rows == 100_000
    assert consent_import.counts == {
        Outcomes.OPTED_IN: 100_000,
        Outcomes.DUPLICATE: 1,
        Outcomes.INVALID_NUMBER: 1,
    }


# --- the preview task -----------------------------------------------------------------------


def _upload(agency, raw: bytes) -> ConsentImport:
    with agency_scope(agency):
        return imports.upload(actor=ACTOR, agency=agency, user=None, filename="l.csv", raw=raw)


def test_an_upload_is_kept_for_the_task_and_read_once(agency_a):
    consent_import = _upload(agency_a, b"phone\n(202) 555-0101\n(202) 555-0102\n")
    assert consent_import.status == ConsentImport.Status.READING
    assert consent_import.total_rows == 2
    with agency_scope(agency_a):
        read = imports.read_upload(consent_import.pk)
        assert imports.read_upload(consent_import.pk) is None  # a redelivered task
        assert ImportRow.objects.filter(consent_import=consent_import).count() == 2
        kept = ConsentImport.objects.get(pk=consent_import.pk)
    assert read is not None and read.status == ConsentImport.Status.PREVIEWED
    assert (read.read_rows, read.to_commit) == (2, 2)
    assert kept.upload is None  # the bytes are not kept once read
    assert _consents(agency_a) == 0


def test_a_file_refused_by_the_task_changes_nothing_and_says_why(agency_a, monkeypatch):
    consent_import = _upload(agency_a, b"phone\n(202) 555-0101\n")
    # The rules tightened between the upload and the task (a new release, a redelivery).
    monkeypatch.setattr(imports, "MAX_ROWS", 0)
    with agency_scope(agency_a):
        refused = imports.read_upload(consent_import.pk)
        assert not ImportRow.objects.exists()
        assert not Contact.objects.exists()
    assert refused is not None and refused.status == ConsentImport.Status.REFUSED
    assert "split it" in refused.problems[0]
    with agency_scope(agency_a), pytest.raises(imports.ApplicationError):
        imports.start_commit(actor=ACTOR, consent_import=refused)


def test_the_preview_reports_progress_as_it_reads(agency_a, monkeypatch):
    seen = []
    monkeypatch.setattr(imports, "PROGRESS_EVERY", 2)
    monkeypatch.setattr(imports, "_progress", lambda pk, done: seen.append(done))
    raw = b"phone\n" + b"".join(f"(202) 555-{n:04d}\n".encode() for n in range(100, 105))
    _preview(agency_a, raw)
    assert seen == [2, 4]
