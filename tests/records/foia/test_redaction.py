"""Redaction of a message's text spans and media files, stored per request: the record is
never altered; overlapping spans merge with both codes; bad spans and hostile phrases are
refused in words."""

from __future__ import annotations

import pytest

from messaging.models import MediaObject, Message
from records.exports.redaction import Span
from records.foia import redactions, selectors, services
from records.foia.errors import RequestError
from records.foia.models import Redaction, RequestItem
from records.models import AuditEvent
from tenants.scoping import agency_scope
from tests.records.foia.conftest import ACTOR

pytestmark = pytest.mark.django_db
TEXT = "My SSN is 123-45-6789, call me at 512-555-0100."


def add_to_review_set(request, *msgs: Message) -> list[RequestItem]:
    with agency_scope(request.agency_id):
        return [
            RequestItem.objects.create(agency_id=request.agency_id, request=request, message=m)
            for m in msgs
        ]


def test_a_span_is_stored_with_the_request_and_the_message_is_untouched(request_a, say):
    message = say(TEXT)
    (item,) = add_to_review_set(request_a, message)
    services.redact_span(request_a, actor=ACTOR, item_id=item.pk, start=10, end=21, code="(b)(6)")
    with agency_scope(request_a.agency_id):
        assert Message.objects.get(pk=message.pk).content["text"]["body"] == TEXT
        built = redactions.for_request(request_a)
    assert built.text == {message.pk: (Span(10, 21, "(b)(6)"),)}


def test_the_preview_shows_the_code_at_the_place_of_deletion_and_not_the_words(request_a, say):
    (item,) = add_to_review_set(request_a, say(TEXT))
    services.redact_span(request_a, actor=ACTOR, item_id=item.pk, start=10, end=21, code="(b)(6)")
    with agency_scope(request_a.agency_id):
        view = selectors.item_view(request_a, item.pk)
    kept = "".join(s.text for s in view.preview)
    assert "123-45-6789" not in kept
    assert [(s.code, s.length) for s in view.preview if s.redacted] == [("(b)(6)", 11)]
    assert kept == "My SSN is , call me at 512-555-0100."


def test_overlapping_spans_merge_into_one_redaction_naming_both_codes(request_a, say):
    (item,) = add_to_review_set(request_a, say(TEXT))
    services.redact_span(request_a, actor=ACTOR, item_id=item.pk, start=3, end=14, code="(b)(6)")
    services.redact_span(
        request_a, actor=ACTOR, item_id=item.pk, start=10, end=21, code="(b)(7)(C)"
    )
    with agency_scope(request_a.agency_id):
        segments = selectors.item_view(request_a, item.pk).preview
    assert [(s.code, s.length) for s in segments if s.redacted] == [("(b)(6), (b)(7)(C)", 18)]
    assert "".join(s.text for s in segments) == "My , call me at 512-555-0100."


@pytest.mark.parametrize(
    ("start", "end", "words"),
    [
        (5, 5, "end comes after the start"),
        (20, 10, "end comes after the start"),
        (0, len(TEXT) + 1, f"has {len(TEXT)} characters"),
        (-1, 3, "0 or more"),
    ],
)
def test_a_span_outside_the_text_is_refused_in_words(request_a, say, start, end, words):
    (item,) = add_to_review_set(request_a, say(TEXT))
    with pytest.raises(RequestError, match=words):
        services.redact_span(
            request_a, actor=ACTOR, item_id=item.pk, start=start, end=end, code="(b)(6)"
        )


def test_a_code_of_another_jurisdiction_is_refused(request_a, say):
    (item,) = add_to_review_set(request_a, say(TEXT))
    with pytest.raises(RequestError, match="not an exemption code of Federal FOIA"):
        services.redact_span(
            request_a, actor=ACTOR, item_id=item.pk, start=0, end=2, code="7(1)(c)"
        )


def test_a_message_of_another_request_cannot_be_redacted_through_this_one(
    agency_a, foia_a, request_a, say
):
    from tests.records.foia.conftest import new_request

    other = new_request(agency_a, foia_a)
    (item,) = add_to_review_set(other, say(TEXT))
    with pytest.raises(RequestError, match="not in this request's review set"):
        services.redact_span(request_a, actor=ACTOR, item_id=item.pk, start=0, end=2, code="(b)(6)")


def test_a_phrase_is_redacted_everywhere_in_the_review_set_in_any_case(request_a, say):
    first, second, third = say("Ask Maria Lopez."), say("maria lopez called twice"), say("No one")
    add_to_review_set(request_a, first, second, third)
    count = services.redact_phrase(request_a, actor=ACTOR, phrase="Maria Lopez", code="(b)(6)")
    assert count == 2
    with agency_scope(request_a.agency_id):
        built = redactions.for_request(request_a)
        audit = AuditEvent.objects.filter(action="records_request.redacted").get()
    assert built.text == {first.pk: (Span(4, 15, "(b)(6)"),), second.pk: (Span(0, 11, "(b)(6)"),)}
    assert "Maria" not in str(audit.changes)  # the phrase itself is not kept on record


def test_a_phrase_with_regex_characters_is_matched_literally(request_a, say):
    message = say("Case (a+b)* is open; case ab is not.")
    add_to_review_set(request_a, message)
    assert services.redact_phrase(request_a, actor=ACTOR, phrase="(a+b)*", code="(b)(6)") == 1


@pytest.mark.parametrize(
    ("phrase", "words"),
    [
        ("", "Type the phrase"),
        ("   ", "Type the phrase"),
        ("x" * 501, "at most 500"),
        ("zzz", "does not occur"),
    ],
)
def test_a_phrase_that_cannot_be_redacted_is_refused_in_words(request_a, say, phrase, words):
    add_to_review_set(request_a, say(TEXT))
    with pytest.raises(RequestError, match=words):
        services.redact_phrase(request_a, actor=ACTOR, phrase=phrase, code="(b)(6)")


def test_a_media_file_is_withheld_whole_with_its_code(request_a, agency_a, conversation_a):
    with agency_scope(agency_a):
        media = MediaObject.objects.create(
            agency=agency_a,
            phone_number=conversation_a.phone_number,
            meta_media_id="m1",
            kind="image",
        )
    from tests.factories import InboundMessageFactory

    message = InboundMessageFactory(
        agency=agency_a,
        conversation=conversation_a,
        type="image",
        content={"type": "image", "image": {"id": "m1", "caption": "my license"}},
        media=media,
    )
    (item,) = add_to_review_set(request_a, message)
    services.withhold_media(request_a, actor=ACTOR, item_id=item.pk, code="(b)(6)")
    with agency_scope(agency_a):
        assert redactions.for_request(request_a).media == {media.pk: "(b)(6)"}
    with pytest.raises(RequestError, match="already withheld"):
        services.withhold_media(request_a, actor=ACTOR, item_id=item.pk, code="(b)(6)")


def test_a_text_message_has_no_file_to_withhold(request_a, say):
    (item,) = add_to_review_set(request_a, say(TEXT))
    with pytest.raises(RequestError, match="no media file"):
        services.withhold_media(request_a, actor=ACTOR, item_id=item.pk, code="(b)(6)")


def test_a_redaction_can_be_removed_and_the_removal_is_audited(request_a, say):
    (item,) = add_to_review_set(request_a, say(TEXT))
    redaction = services.redact_span(
        request_a, actor=ACTOR, item_id=item.pk, start=0, end=2, code="(b)(6)"
    )
    services.remove_redaction(request_a, actor=ACTOR, redaction_id=redaction.pk)
    with agency_scope(request_a.agency_id):
        assert not Redaction.objects.exists()
        assert AuditEvent.objects.filter(action="records_request.redaction_removed").exists()


def test_a_message_withheld_in_full_carries_its_code_to_the_production(request_a, say):
    message = say(TEXT)
    (item,) = add_to_review_set(request_a, message)
    with agency_scope(request_a.agency_id):
        RequestItem.objects.filter(pk=item.pk).update(decision="withheld", withheld_code="(b)(5)")
        assert redactions.for_request(request_a).withheld_messages == {message.pk: "(b)(5)"}


def test_an_emoji_counts_as_one_character_as_the_review_page_counts_it(request_a, say):
    (item,) = add_to_review_set(request_a, say("👋 Hi Ana"))
    services.redact_span(request_a, actor=ACTOR, item_id=item.pk, start=5, end=8, code="(b)(6)")
    with agency_scope(request_a.agency_id):
        segments = selectors.item_view(request_a, item.pk).preview
    assert "".join(s.text for s in segments) == "👋 Hi "


def test_words_typed_on_the_review_page_are_redacted_in_that_message_only(request_a, say):
    here, there = say("Ana called; ANA again"), say("Ana elsewhere")
    items = add_to_review_set(request_a, here, there)
    count = services.redact_phrase(
        request_a, actor=ACTOR, phrase="ana", code="(b)(6)", item_id=items[0].pk
    )
    assert count == 2
    with agency_scope(request_a.agency_id):
        assert set(redactions.for_request(request_a).text) == {here.pk}
    with pytest.raises(RequestError, match="does not occur in this message"):
        services.redact_phrase(
            request_a, actor=ACTOR, phrase="elsewhere", code="(b)(6)", item_id=items[0].pk
        )
