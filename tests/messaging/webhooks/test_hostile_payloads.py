"""Property-based: odd, malformed and hostile bodies never produce a 5xx from the endpoint
(when signed) and never crash the processor — every event ends in a recorded state."""

from __future__ import annotations

import json
from typing import Any

import pytest
from hypothesis import HealthCheck, given, settings
from hypothesis import strategies as st

from messaging.models import WebhookEvent
from messaging.webhooks import processing
from messaging.webhooks.receive import store_event
from tenants.scoping import system_scope
from tests.messaging.webhooks.payloads import encode, signed_headers

pytestmark = pytest.mark.django_db

PROPERTY_SETTINGS = settings(
    max_examples=60,
    deadline=None,
    suppress_health_check=[HealthCheck.function_scoped_fixture, HealthCheck.too_slow],
)

scalars = (
    st.none()
    | st.booleans()
    | st.integers(min_value=-(2**70), max_value=2**70)
    | st.floats(allow_nan=False)
    | st.text(max_size=40)
)
json_values = st.recursive(
    scalars,
    lambda children: (
        st.lists(children, max_size=4) | st.dictionaries(st.text(max_size=12), children, max_size=4)
    ),
    max_leaves=20,
)

MESSAGE_TYPES = [
    "text", "image", "video", "audio", "document", "sticker", "location", "contacts",
    "interactive", "button", "reaction", "order", "system", "unsupported", "unknown",
    "revoke", "edit", "request_welcome", "nfm_reply",
]  # fmt: skip
STATUS_WORDS = ["sent", "delivered", "read", "played", "failed", "deleted", "", "SENT"]
FIELDS = [
    "messages", "user_preferences", "message_template_status_update",
    "message_template_quality_update", "template_category_update",
    "phone_number_quality_update", "account_update", "calls", "",
]  # fmt: skip


def junk_or(strategy: st.SearchStrategy) -> st.SearchStrategy:
    """Mostly the plausible shape, sometimes anything at all."""
    return st.one_of(strategy, strategy, strategy, json_values)


@st.composite
def hostile_message(draw: Any) -> Any:
    kind = draw(junk_or(st.sampled_from(MESSAGE_TYPES)))
    message = {
        "from": draw(junk_or(st.from_regex(r"\A1[0-9]{10}\Z"))),
        "id": draw(junk_or(st.text(min_size=1, max_size=300))),
        "timestamp": draw(junk_or(st.integers(0, 2**40).map(str))),
        "type": kind,
        "context": draw(junk_or(st.fixed_dictionaries({"id": st.text(max_size=30)}))),
    }
    if isinstance(kind, str):
        message[kind] = draw(json_values)
    return draw(junk_or(st.just(message)))


@st.composite
def hostile_status(draw: Any) -> Any:
    status = {
        "id": draw(junk_or(st.text(min_size=1, max_size=300))),
        "status": draw(junk_or(st.sampled_from(STATUS_WORDS))),
        "timestamp": draw(junk_or(st.integers(0, 2**40).map(str))),
        "recipient_id": draw(junk_or(st.text(max_size=20))),
        "biz_opaque_callback_data": draw(junk_or(st.text(max_size=40))),
        "errors": draw(json_values),
        "pricing": draw(json_values),
        "conversation": draw(json_values),
    }
    return draw(junk_or(st.just(status)))


@st.composite
def hostile_payload(draw: Any, number_id: str, waba_id: str) -> Any:
    value = {
        "messaging_product": "whatsapp",
        "metadata": draw(junk_or(st.just({"phone_number_id": number_id}))),
        "contacts": draw(junk_or(st.lists(json_values, max_size=3))),
        "messages": draw(junk_or(st.lists(hostile_message(), max_size=3))),
        "statuses": draw(junk_or(st.lists(hostile_status(), max_size=3))),
        "user_preferences": draw(junk_or(st.lists(json_values, max_size=2))),
        "event": draw(junk_or(st.text(max_size=30))),
        "errors": draw(json_values),
        **draw(st.dictionaries(st.text(max_size=30), json_values, max_size=4)),
    }
    change = {
        "field": draw(junk_or(st.sampled_from(FIELDS))),
        "value": draw(junk_or(st.just(value))),
    }
    entry = {
        "id": draw(junk_or(st.just(waba_id))),
        "time": draw(junk_or(st.integers())),
        "changes": draw(junk_or(st.lists(st.just(change), min_size=1, max_size=2))),
    }
    return draw(junk_or(st.just({"object": "whatsapp_business_account", "entry": [entry]})))


def _process(body: bytes) -> WebhookEvent:
    event_id = store_event(body, "sha256=test", "platform")
    with system_scope():
        processing.process_event(event_id)  # must not raise
        return WebhookEvent.objects.get(pk=event_id)


SETTLED = {
    WebhookEvent.Status.PROCESSED,
    WebhookEvent.Status.QUARANTINED,
    WebhookEvent.Status.RETRYING,
    WebhookEvent.Status.FAILED,
}


@PROPERTY_SETTINGS
@given(body=st.binary(max_size=2000))
def test_any_signed_bytes_are_stored_never_a_5xx(client, body):
    response = client.generic(
        "POST", "/webhooks/whatsapp", body, content_type="application/json",
        **signed_headers(body),
    )  # fmt: skip
    assert response.status_code == 200


@PROPERTY_SETTINGS
@given(data=st.data())
def test_hostile_envelopes_for_a_real_number_never_crash_the_processor(data, wa_number):
    payload = data.draw(hostile_payload(wa_number.phone_number_id, wa_number.waba.waba_id))
    event = _process(encode(payload))
    # Hostile values are quarantined, never retried: nothing about them is transient.
    assert event.status in SETTLED - {WebhookEvent.Status.RETRYING}, event.error
    if event.status == WebhookEvent.Status.FAILED:
        assert event.error.startswith("Unreadable payload")


@PROPERTY_SETTINGS
@given(payload=json_values)
def test_arbitrary_json_is_recorded_with_a_reason(payload):
    event = _process(encode(payload))
    assert event.status in SETTLED - {WebhookEvent.Status.RETRYING}
    assert event.error or event.status != WebhookEvent.Status.FAILED


@pytest.mark.parametrize("hostile", ["\u0000", "\ud800"], ids=["nul", "lone-surrogate"])
def test_a_message_with_a_character_postgresql_cannot_hold_is_stored_with_a_replacement(
    deliver, scope_a, hostile
):
    from messaging.models import Message
    from tests.messaging.webhooks.conftest import CITIZEN
    from tests.messaging.webhooks.payloads import inbound_text

    message = inbound_text(CITIZEN, f"pothole{hostile} on Elm St")
    event = deliver(message)
    assert Message.objects.get(wamid=message["id"]).content["text"]["body"] == (
        "pothole\ufffd on Elm St"
    )
    escaped = json.dumps(hostile)[1:-1].encode()  # as Meta sent it: `\u0000`, `\ud800`
    assert b"pothole" + escaped in bytes(event.body)  # the signed original is kept


def test_emoji_in_a_message_survive_the_check_for_unstorable_characters(deliver, scope_a):
    from messaging.models import Message
    from tests.messaging.webhooks.conftest import CITIZEN
    from tests.messaging.webhooks.payloads import inbound_text

    message = inbound_text(CITIZEN, "thanks 🙏🏽")
    deliver(message)
    assert Message.objects.get(wamid=message["id"]).content["text"]["body"] == "thanks 🙏🏽"
