"""The simulated Cloud API: accounts, sends, statuses, templates, media, citizens' messages.

HTTP handlers in app.py parse requests and call these methods; everything here runs on the
server's event loop, so state needs no locking.
"""

from __future__ import annotations

import asyncio
import copy
import hashlib
import random
import re
import secrets
import time
from typing import Any

import phonenumbers

from messaging.simulator import media as media_rules
from messaging.simulator import templates as template_rules
from messaging.simulator.config import SimConfig
from messaging.simulator.graph import (
    GraphError,
    expired_token,
    invalid_parameter,
    invalid_token,
    numeric_id,
    unknown_object,
    wamid,
    webhook_error,
)
from messaging.simulator.state import (
    Media,
    PhoneNumber,
    SentMessage,
    SimState,
    Template,
    TokenBucket,
)
from messaging.simulator.validation import MEDIA_TYPES, validate_mark_read, validate_send
from messaging.simulator.webhooks import Event, Target, WebhookDispatcher

_ASYNC_ERRORS = {
    131026: ("Message undeliverable", "Message Undeliverable."),
    131047: (
        "Re-engagement message",
        "Message failed to send because more than 24 hours have passed since the customer "
        "last replied to this number.",
    ),
    131000: ("Something went wrong", "Something went wrong."),
    131009: (
        "Parameter value is not valid",
        "The message_id of the reaction does not match a message in this conversation.",
    ),
}
_EDITABLE = frozenset({"APPROVED", "REJECTED", "PAUSED"})
_VERSION_RE = re.compile(r"^v(\d+)\.\d+$")


# The Marketing Messages API's own send options (beside the template send body).
MARKETING_OPTIONS = frozenset({"message_activity_sharing", "product_policy"})
MARKETING_PRODUCT_POLICIES = frozenset({"CLOUD_API_FALLBACK", "STRICT"})


def _check_messaging_product(body: dict[str, Any]) -> None:
    if body.get("messaging_product") != "whatsapp":
        if "messaging_product" not in body:
            raise GraphError(
                100,
                "Invalid parameter",
                message="(#100) The parameter messaging_product is required.",
            )
        raise invalid_parameter("Param messaging_product must be 'whatsapp'.")


def _region(wa_id: str) -> str:
    try:
        region = phonenumbers.region_code_for_number(phonenumbers.parse(f"+{wa_id}"))
    except phonenumbers.NumberParseException:  # the prefix is cosmetic
        region = None
    return region if region and region != "ZZ" else "US"


class Simulator:
    def __init__(self, config: SimConfig) -> None:
        self.initial_config = copy.deepcopy(config)
        self.url_secret = secrets.token_hex(16)  # signs media download URLs
        # Where this server is reachable, for media URLs; app.py keeps it current.
        self.base_url = config.public_url or "http://127.0.0.1:8025"
        self._setup(config)

    def _setup(self, config: SimConfig) -> None:
        self.config = config
        # Seedable simulation randomness (faults, delays), never used for secrets.
        self.rng = random.Random(config.seed)  # noqa: S311
        self.state = SimState()
        self.state.not_on_whatsapp.update(config.not_on_whatsapp)
        self.dispatcher = WebhookDispatcher(config.webhooks, self.rng)
        self._waiters: dict[tuple[str, str], list[asyncio.Future[SentMessage]]] = {}
        self._number_registered: asyncio.Event | None = None
        self.tasks: set[asyncio.Task[Any]] = set()
        for data in config.phone_numbers:
            self.register_number(dict(data))
        for data in config.templates:
            self.seed_template(dict(data))

    async def stop(self) -> None:
        for task in list(self.tasks):
            task.cancel()
        await self.dispatcher.close()

    async def reset(self) -> None:
        """Forget everything and go back to the startup configuration."""
        for task in list(self.tasks):
            task.cancel()
        await self.dispatcher.close()
        self._setup(copy.deepcopy(self.initial_config))

    def spawn(self, coro: Any) -> asyncio.Task[Any]:
        task = asyncio.get_running_loop().create_task(coro)
        self.tasks.add(task)
        task.add_done_callback(self.tasks.discard)
        return task

    def _new_id(self, taken: dict[str, Any]) -> str:
        while True:
            new = numeric_id(self.rng)
            if new not in taken:
                return new

    # ---- phone numbers and auth -------------------------------------------------------------

    def register_number(self, data: dict[str, Any]) -> PhoneNumber:
        """Create or update a number (keyed by ``id`` / ``phone_number_id``)."""
        number_id = str(data.pop("phone_number_id", None) or data.pop("id", None) or "")
        existing = self.state.numbers.get(number_id)
        if existing is not None:
            for key, value in data.items():
                if not hasattr(existing, key):
                    raise ValueError(f"unknown phone number field {key}")
                setattr(existing, key, value)
            return existing
        display = re.sub(r"\D", "", str(data.pop("display_phone_number", "") or ""))
        if not display:
            raise ValueError("display_phone_number is required")
        number = PhoneNumber(
            id=number_id or self._new_id(self.state.numbers),
            display_phone_number=display,
            waba_id=str(data.pop("waba_id", None) or numeric_id(self.rng)),
            access_token=str(data.pop("access_token", None) or "EAAG" + secrets.token_hex(24)),
            app_secret=str(data.pop("app_secret", None) or self.config.default_app_secret),
            **data,
        )
        self.state.numbers[number.id] = number
        if self._number_registered is not None:
            self._number_registered.set()
        return number

    async def wait_for_number(self, number_id: str | None = None) -> PhoneNumber:
        """Scenarios start before the platform registers its number; wait for it."""
        while True:
            if number_id is not None and number_id in self.state.numbers:
                return self.state.numbers[number_id]
            if number_id is None and self.state.numbers:
                return next(iter(self.state.numbers.values()))
            self._number_registered = self._number_registered or asyncio.Event()
            self._number_registered.clear()
            await self._number_registered.wait()

    def _token_known(self, token: str) -> bool:
        return any(n.access_token == token for n in self.state.numbers.values())

    def authorize_number(self, number_id: str, token: str | None, method: str) -> PhoneNumber:
        """Auth first (190), then the object (100/33), as Graph does (cloud-api.md §8)."""
        if not token or not self._token_known(token):
            raise invalid_token()
        number = self.state.numbers.get(number_id)
        if number is None or not self._owns(token, number.waba_id):
            raise unknown_object(number_id, method)
        if number.token_revoked and number.access_token == token:
            raise expired_token()
        return number

    def _owns(self, token: str, waba_id: str) -> bool:
        return any(n.access_token == token for n in self.state.numbers_in_waba(waba_id))

    def authorize_waba(self, waba_id: str, token: str | None, method: str) -> list[PhoneNumber]:
        if not token or not self._token_known(token):
            raise invalid_token()
        numbers = self.state.numbers_in_waba(waba_id)
        if not numbers or not self._owns(token, waba_id):
            raise unknown_object(waba_id, method)
        if all(n.token_revoked for n in numbers if n.access_token == token):
            raise expired_token()
        return numbers

    def token_wabas(self, token: str | None) -> set[str]:
        if not token or not self._token_known(token):
            raise invalid_token()
        return {n.waba_id for n in self.state.numbers.values() if n.access_token == token}

    # ---- sending ----------------------------------------------------------------------------

    def fault(self) -> str | None:
        """Fault injection for one request: None, "5xx" or "slow"."""
        faults = self.config.faults
        if faults.error_5xx_fraction and self.rng.random() < faults.error_5xx_fraction:
            return "5xx"
        if faults.slow_fraction and self.rng.random() < faults.slow_fraction:
            return "slow"
        return None

    def server_error(self) -> GraphError:
        if self.rng.random() < 0.5:
            return GraphError(
                131000, "Something went wrong", details="Something went wrong.", http_status=500
            )
        return GraphError(
            131016, "Service unavailable", details="Service unavailable.", http_status=503
        )

    def _check_throughput(self, number: PhoneNumber, now: float) -> None:
        mps = number.throughput_mps or self.config.limits.throughput_mps
        if not mps or mps <= 0:
            return
        bucket = self.state.throughput.get(number.id)
        if bucket is None or bucket.rate != mps:
            bucket = self.state.throughput[number.id] = TokenBucket(mps, mps)
        if bucket.take(now):
            raise GraphError(
                130429,
                "Rate limit hit",
                details="Cloud API message throughput has been reached.",
            )

    def _check_pair_limit(self, number: PhoneNumber, wa_id: str, now: float) -> None:
        limits = self.config.limits
        if limits.pair_burst <= 0:
            return
        key = (number.id, wa_id)
        bucket = self.state.pair_limits.get(key)
        if bucket is None:
            bucket = self.state.pair_limits[key] = TokenBucket(
                1 / limits.pair_interval, limits.pair_burst
            )
        if bucket.take(now):
            raise GraphError(
                131056,
                "(Business Account, Consumer Account) pair rate limit hit",
                details="Message failed to send because there were too many messages sent "
                "from this phone number to the same phone number in a short period of time.",
            )

    def handle_messages(
        self, number: PhoneNumber, body: dict[str, Any], version: str
    ) -> dict[str, Any]:
        _check_messaging_product(body)
        if "status" in body and "type" not in body and "to" not in body:
            return self.mark_read(number, body)
        return self.send(number, body, version)

    def handle_marketing_messages(
        self, number: PhoneNumber, body: dict[str, Any], version: str
    ) -> dict[str, Any]:
        """``POST /{phone-number-id}/marketing_messages`` (Marketing Messages API, "MM
        Lite"): the body of a template send plus its own options; MARKETING templates only;
        the same answer and status webhooks as /messages."""
        _check_messaging_product(body)
        if not number.marketing_messages_onboarded:
            raise GraphError(
                131055,
                "Method not allowed",
                details="You must accept the Marketing Messages Lite API terms to use the API.",
            )
        if body.get("type", "text") != "template":
            raise invalid_parameter("Message must be a template message.")
        sharing = body.get("message_activity_sharing")
        if sharing is not None and not isinstance(sharing, bool):
            raise invalid_parameter("Param message_activity_sharing must be a boolean.")
        policy = body.get("product_policy")
        if policy is not None and policy not in MARKETING_PRODUCT_POLICIES:
            allowed = ", ".join(sorted(MARKETING_PRODUCT_POLICIES))
            raise invalid_parameter(f"Param product_policy must be one of {{{allowed}}}.")
        core = {k: v for k, v in body.items() if k not in MARKETING_OPTIONS}
        return self.send(number, core, version, endpoint="marketing_messages", payload=body)

    def mark_read(self, number: PhoneNumber, body: dict[str, Any]) -> dict[str, Any]:
        validate_mark_read(body, self.config.strict_fields)
        self.state.reads.setdefault(number.id, []).append(
            {
                "message_id": body["message_id"],
                "typing_indicator": "typing_indicator" in body,
                "at": time.time(),
            }
        )
        return {"success": True}  # no status webhook for read receipts (cloud-api.md §8)

    def send(
        self,
        number: PhoneNumber,
        body: dict[str, Any],
        version: str,
        *,
        endpoint: str = "messages",
        payload: dict[str, Any] | None = None,
    ) -> dict[str, Any]:
        now = time.monotonic()
        self._check_throughput(number, now)
        kind, wa_id = validate_send(body, self.config.strict_fields)
        if wa_id == number.display_phone_number:
            raise GraphError(
                131021,
                "Recipient cannot be sender",
                details="Sender and recipient phone number is the same.",
            )
        rendered, category = self._check_business_rules(number, kind, body)
        self._check_marketing_route(number, category, endpoint)
        self._check_pair_limit(number, wa_id, now)
        message = SentMessage(
            wamid=wamid(wa_id),
            phone_number_id=number.id,
            to=str(body["to"]),
            wa_id=wa_id,
            type=kind,
            payload=payload if payload is not None else body,
            accepted_at=time.time(),
            rendered_text=rendered,
            endpoint=endpoint,
        )
        self.state.sent.setdefault(number.id, []).append(message)
        self.state.by_wamid[message.wamid] = message
        self.state.bump("sent")
        if endpoint == "marketing_messages":
            self.state.bump("marketing_messages.sent")
        self._plan_statuses(number, message, category, version, now)
        self._wake_waiters(number.id, wa_id, message)
        return {
            "messaging_product": "whatsapp",
            "contacts": [{"input": str(body["to"]), "wa_id": wa_id}],
            "messages": [{"id": message.wamid, "message_status": "accepted"}],
        }

    def _check_marketing_route(self, number: PhoneNumber, category: str, endpoint: str) -> None:
        """MARKETING templates only through /marketing_messages; and none through /messages
        where Meta disabled marketing on the Cloud API for the WABA."""
        if endpoint == "marketing_messages" and category != "marketing":
            raise GraphError(
                131055,
                "Method not allowed",
                details="Only marketing templates can be sent with the Marketing Messages API; "
                "send utility and authentication templates with the Cloud API.",
            )
        if (
            endpoint == "messages"
            and category == "marketing"
            and number.cloud_api_marketing_disabled
        ):
            raise GraphError(
                131063,
                "Marketing templates disabled on Cloud API",
                details="Marketing template messages cannot be sent with the Cloud API for "
                "this WhatsApp Business Account; use the Marketing Messages API.",
            )

    def _check_business_rules(
        self, number: PhoneNumber, kind: str, body: dict[str, Any]
    ) -> tuple[str | None, str]:
        """Synchronous rules needing state; returns (rendered template text, pricing category)."""
        if kind == "template":
            template = self._find_template(number.waba_id, body["template"])
            rendered = template_rules.check_send(template, body["template"].get("components", []))
            return rendered, template.category.lower()
        if kind in MEDIA_TYPES and "id" in body[kind]:
            media = self.state.media.get(str(body[kind]["id"]))
            if media is None or self.state.numbers[media.phone_number_id].waba_id != number.waba_id:
                raise invalid_parameter(
                    f"Param {kind}['id'] is not a valid whatsapp business account media "
                    "attachment ID"
                )
        return None, "service"

    def _find_template(self, waba_id: str, spec: dict[str, Any]) -> Template:
        name = spec["name"]
        language = template_rules.normalize_language(spec["language"]["code"])
        for template in self.state.templates.values():
            if template.waba_id != waba_id or template.name != name:
                continue
            if template_rules.normalize_language(template.language) != language:
                continue
            if template.status == "PAUSED":
                raise GraphError(
                    132015,
                    "Template is paused",
                    details=f"Template {name} is paused due to low quality.",
                )
            if template.status == "DISABLED":
                raise GraphError(
                    132016, "Template has been disabled", details=f"Template {name} is disabled."
                )
            if template.status == "APPROVED":
                return template
        raise GraphError(
            132001,
            "Template name does not exist in the translation",
            details=f"template name ({name}) does not exist in {spec['language']['code']}",
            http_status=404,
        )

    # ---- statuses ---------------------------------------------------------------------------

    def window_open(self, number_id: str, wa_id: str) -> bool:
        last = self.state.windows.get((number_id, wa_id))
        return last is not None and time.time() - last < self.config.limits.window_seconds

    def _plan_statuses(
        self,
        number: PhoneNumber,
        message: SentMessage,
        category: str,
        version: str,
        now: float,
    ) -> None:
        cfg = self.config.webhooks
        rng = self.rng

        def later(delay: float) -> float:
            return delay * (1 + rng.random() * cfg.jitter)

        window = self.window_open(number.id, message.wa_id)
        t_sent = later(cfg.sent_delay)
        undeliverable = message.wa_id in self.state.not_on_whatsapp or (
            self.config.faults.undeliverable_fraction
            and rng.random() < self.config.faults.undeliverable_fraction
        )
        plan: list[tuple[float, str, int | None]]
        if undeliverable:
            plan = [(t_sent, "failed", 131026)]
        elif message.type != "template" and self.config.limits.enforce_window and not window:
            plan = [(t_sent, "failed", 131047)]  # accepted, then fails (cloud-api.md §7.4)
        elif message.type == "reaction":
            # Reactions only ever get `sent`; one to a message outside the thread is accepted
            # and then fails with 131009 (cloud-api.md §10).
            reacted_to = str(message.payload["reaction"].get("message_id", ""))
            known = self._in_thread(number.id, message.wa_id, reacted_to)
            plan = [(t_sent, "sent", None) if known else (t_sent, "failed", 131009)]
        else:
            t_delivered = t_sent + later(cfg.delivered_delay)
            plan = [(t_sent, "sent", None), (t_delivered, "delivered", None)]
            if cfg.failed_after_sent_fraction and rng.random() < cfg.failed_after_sent_fraction:
                plan[1] = (t_delivered, "failed", 131000)
            elif rng.random() < cfg.read_probability:
                plan.append((t_delivered + later(cfg.read_delay), "read", None))
        if len(plan) > 1 and cfg.out_of_order_fraction and rng.random() < cfg.out_of_order_fraction:
            # Same instants, statuses reversed: read first, sent last.
            plan = [(t, s, c) for (t, _, _), (_, s, c) in zip(plan, reversed(plan), strict=True)]
        message.timeline = [(now + t, s, c) for t, s, c in plan]
        if number.callback_url:
            target = Target(number.callback_url, number.app_secret)
            pricing = self._pricing(category, window, version)
            for delay, status, code in plan:
                item = self._status_item(message, status, code, pricing, delay)
                # 2026 status webhooks carry value.contacts; an undeliverable user has no
                # business-scoped id to report, so a 131026 names only the wa_id (§10).
                contact: dict[str, Any] = {"wa_id": message.wa_id}
                if code != 131026:
                    contact["user_id"] = self.user_id(number, message.wa_id)
                event = Event(
                    number.waba_id,
                    "messages",
                    item,
                    "statuses",
                    number.id,
                    number.display_phone_number,
                    contact,
                )
                self.dispatcher.enqueue_later(delay, target, event, message.wamid)

    def _in_thread(self, number_id: str, wa_id: str, wamid_: str) -> bool:
        """Whether ``wamid_`` is a message between this number and this citizen."""
        sent = self.state.by_wamid.get(wamid_)
        if sent is not None:
            return sent.phone_number_id == number_id and sent.wa_id == wa_id
        return any(
            record["message"].get("id") == wamid_ and record["message"].get("from") == wa_id
            for record in self.state.inbound.get(number_id, [])
        )

    def _pricing(self, category: str, window: bool, version: str) -> dict[str, Any]:
        free = category == "service" or (category == "utility" and window)
        pricing: dict[str, Any] = {
            "billable": not free,
            "pricing_model": "PMP",
            "type": "free_customer_service" if free else "regular",
            "category": category,
        }
        match = _VERSION_RE.match(version)
        if match and int(match.group(1)) <= 23:
            # conversation object dropped from v24 on (cloud-api.md §5.6)
            pricing["_conversation"] = {"origin": {"type": category}}
        return pricing

    def _status_item(
        self,
        message: SentMessage,
        status: str,
        code: int | None,
        pricing: dict[str, Any],
        delay: float,
    ) -> dict[str, Any]:
        item: dict[str, Any] = {
            "id": message.wamid,
            "status": status,
            "timestamp": str(int(time.time() + delay)),  # when the status will happen
            "recipient_id": message.wa_id,
        }
        opaque = message.payload.get("biz_opaque_callback_data")
        if opaque is not None:
            item["biz_opaque_callback_data"] = opaque
        if status == "failed":
            title, details = _ASYNC_ERRORS[code or 131000]
            item["errors"] = [webhook_error(code or 131000, title, details)]
            return item
        price = {k: v for k, v in pricing.items() if not k.startswith("_")}
        conversation = pricing.get("_conversation")
        if conversation is not None:
            key = f"{message.phone_number_id}:{message.wa_id}:{price['category']}"
            item["conversation"] = {
                "id": hashlib.md5(key.encode()).hexdigest(),  # noqa: S324 - an id, not security
                **conversation,
            }
        item["pricing"] = price
        return item

    # ---- waiting for the business (citizen scenarios) --------------------------------------

    def _wake_waiters(self, number_id: str, wa_id: str, message: SentMessage) -> None:
        waiters = self._waiters.pop((number_id, wa_id), None)
        for future in waiters or ():
            if not future.done():
                future.set_result(message)

    async def wait_for_outbound(
        self, number_id: str, wa_id: str, timeout: float | None
    ) -> SentMessage | None:
        future: asyncio.Future[SentMessage] = asyncio.get_running_loop().create_future()
        self._waiters.setdefault((number_id, wa_id), []).append(future)
        try:
            return await asyncio.wait_for(future, timeout)
        except TimeoutError:
            return None

    def last_outbound(
        self, number_id: str, wa_id: str, types: tuple[str, ...] = ()
    ) -> SentMessage | None:
        for message in reversed(self.state.sent.get(number_id, [])):
            if message.wa_id == wa_id and (not types or message.type in types):
                return message
        return None

    # ---- inbound ----------------------------------------------------------------------------

    def deliver_inbound(
        self,
        number: PhoneNumber,
        message: dict[str, Any],
        name: str | None,
        *,
        errors: list[dict[str, Any]] | None = None,
        wa_id: str | None = None,
    ) -> None:
        """Post a citizen's message; ``errors``: change-level errors beside it, or instead of
        it when ``message`` is empty (then ``wa_id`` names the citizen)."""
        wa_id = message.get("from", "") or wa_id or ""
        if message and message.get("type") != "system":
            self.state.windows[(number.id, wa_id)] = time.time()
        if name:
            self.state.citizen_names[wa_id] = name
        record: dict[str, Any] = {"phone_number_id": number.id, "message": message, "name": name}
        if errors is not None:
            record["errors"] = errors
        self.state.inbound.setdefault(number.id, []).append(record)
        self.state.bump("inbound")
        if not number.callback_url:
            return
        contact = None
        if message.get("type") != "system":  # system messages carry no contacts (§10)
            profile_name = name or self.state.citizen_names.get(wa_id) or "WhatsApp User"
            contact = {
                "profile": {"name": profile_name},
                "wa_id": wa_id,
                "user_id": self.user_id(number, wa_id),
            }
        event = Event(
            number.waba_id,
            "messages",
            message,
            "messages",
            number.id,
            number.display_phone_number,
            contact,
            tuple(errors) if errors is not None else None,
        )
        self.dispatcher.enqueue(Target(number.callback_url, number.app_secret), event, wa_id)

    def user_id(self, number: PhoneNumber, wa_id: str) -> str:
        """The citizen's business-scoped user id (BSUID, 2026): stable per WABA and wa_id,
        ``<region>.<digits>`` like ``US.13491208655302741918``, unless a spec set one."""
        key = (number.waba_id, wa_id)
        found = self.state.user_ids.get(key)
        if found is None:
            digest = hashlib.sha256(f"{number.waba_id}:{wa_id}".encode()).hexdigest()
            found = f"{_region(wa_id)}.{int(digest[:16], 16):020d}"
            self.state.user_ids[key] = found
        return found

    def last_inbound(
        self, number_id: str, wa_id: str, types: tuple[str, ...] = ()
    ) -> dict[str, Any] | None:
        """The citizen's latest message to this number (of ``types`` if given)."""
        for record in reversed(self.state.inbound.get(number_id, [])):
            message = record["message"]
            if message.get("from") == wa_id and (not types or message.get("type") in types):
                return message
        return None

    def new_inbound_id(self, wa_id: str) -> str:
        return wamid(wa_id, inbound=True)

    # ---- media ------------------------------------------------------------------------------

    def store_media(
        self, number: PhoneNumber, data: bytes, mime: str, filename: str | None = None
    ) -> Media:
        media = Media(
            id=self._new_id(self.state.media),
            phone_number_id=number.id,
            mime_type=mime,
            data=data,
            sha256=media_rules.sha256_hex(data),
            filename=filename,
        )
        self.state.media[media.id] = media
        return media

    def media_for(self, media_id: str, token: str | None, phone_number_id: str | None) -> Media:
        if not token or not self._token_known(token):
            raise invalid_token()
        media = self.state.media.get(media_id)
        if media is None:
            raise unknown_object(media_id, "get")
        owner = self.state.numbers.get(media.phone_number_id)
        if owner is None or not self._owns(token, owner.waba_id):
            raise unknown_object(media_id, "get")
        if phone_number_id and phone_number_id != media.phone_number_id:
            raise unknown_object(media_id, "get")
        return media

    def media_url(self, media: Media, base_url: str) -> str:
        base = self.config.public_url or base_url
        return media_rules.signed_url(
            base, self.url_secret, media.id, media.mime_type, self.config.limits.media_url_ttl
        )

    def media_json(self, media: Media, base_url: str) -> dict[str, Any]:
        return {
            "messaging_product": "whatsapp",
            "url": self.media_url(media, base_url),
            "mime_type": media.mime_type,
            "sha256": media.sha256,
            "file_size": str(len(media.data)),  # a string in current docs (cloud-api.md §3)
            "id": media.id,
        }

    # ---- templates --------------------------------------------------------------------------

    def create_template(self, waba_id: str, body: dict[str, Any]) -> Template:
        existing = [t for t in self.state.templates.values() if t.waba_id == waba_id]
        template_rules.validate_create(body, existing, self.config.limits.max_templates_per_waba)
        template = Template(
            id=self._new_id(self.state.templates),
            waba_id=waba_id,
            name=body["name"],
            language=body["language"],
            category=body["category"],
            components=body["components"],
            parameter_format=body.get("parameter_format", "POSITIONAL"),
            message_send_ttl_seconds=body.get("message_send_ttl_seconds"),
        )
        self.state.templates[template.id] = template
        self._schedule_review(template)
        return template

    def seed_template(self, data: dict[str, Any]) -> Template:
        """Control API: put a template in place directly (default APPROVED, no review)."""
        waba_id = str(data["waba_id"])
        template = Template(
            id=str(data.get("id") or self._new_id(self.state.templates)),
            waba_id=waba_id,
            name=data["name"],
            language=data.get("language", "en_US"),
            category=data.get("category", "UTILITY"),
            components=data.get("components") or [{"type": "BODY", "text": "Hello"}],
            parameter_format=data.get("parameter_format", "POSITIONAL"),
            status=data.get("status", "APPROVED"),
            # A rejected template keeps Meta's reason in its listing (the platform's
            # templates, seeded at startup by run_simulator, carry theirs).
            rejected_reason=data.get("rejected_reason") or None,
            quality_score=data.get("quality_score", "GREEN"),
        )
        self.state.templates[template.id] = template
        return template

    def _schedule_review(self, template: Template) -> None:
        review = self.config.template_review
        if not review.auto:
            return
        loop = asyncio.get_running_loop()
        loop.call_later(review.delay, self._review, template.id, template.components)

    def _review(self, template_id: str, components: list[dict[str, Any]]) -> None:
        template = self.state.templates.get(template_id)
        if (
            template is None
            or template.status != "PENDING"
            or template.components is not components
        ):
            return  # deleted, decided by hand, or edited again since
        review = self.config.template_review
        body = next((c for c in components if str(c.get("type")).upper() == "BODY"), {})
        text = f"{template.name} {body.get('text', '')}".lower()
        if any(word.lower() in text for word in review.reject_if_contains):
            self.set_template_status(template, "REJECTED", review.reject_reason)
        else:
            self.set_template_status(template, "APPROVED", None)

    def set_template_status(self, template: Template, status: str, reason: str | None) -> None:
        template.status = status
        template.rejected_reason = reason if status == "REJECTED" else None
        value: dict[str, Any] = {
            "event": status,
            "message_template_id": int(template.id),  # an int in webhooks (cloud-api.md §4.5)
            "message_template_name": template.name,
            "message_template_language": template.language,
            "message_template_category": template.category,
            "reason": reason or "NONE",
        }
        if status == "REJECTED":
            value["rejection_info"] = {
                "reason": f"The template was rejected: {reason or 'NONE'}.",
                "recommendation": "Review the template guidelines and submit again.",
            }
        if status == "DISABLED":
            value["disable_info"] = {"disable_date": int(time.time())}
        self._waba_event(template.waba_id, "message_template_status_update", value)

    def _waba_event(self, waba_id: str, field: str, value: dict[str, Any]) -> None:
        targets = {
            Target(n.callback_url, n.app_secret)
            for n in self.state.numbers_in_waba(waba_id)
            if n.callback_url
        }
        for target in targets:
            self.dispatcher.enqueue(target, Event(waba_id, field, value), f"waba:{waba_id}")

    def edit_template(self, template: Template, body: dict[str, Any]) -> None:
        if template.status not in _EDITABLE:
            raise invalid_parameter(
                "Template can only be edited when APPROVED, REJECTED or PAUSED, "
                f"not {template.status}."
            )
        category = body.get("category")
        if category is not None and category != template.category:
            if template.status == "APPROVED":
                raise invalid_parameter("The category of an approved template cannot change.")
            if category not in template_rules.CATEGORIES:
                raise invalid_parameter("Param category is not valid.")
        components = body.get("components")
        if components is not None:
            if not isinstance(components, list) or not components:
                raise invalid_parameter("Param components must be a non-empty array.")
            rules = {
                "parameter_format": template.parameter_format,
                "category": category or template.category,
            }
            template_rules.validate_components(components, rules)
            template.components = components
        if category is not None:
            template.category = category
        if "message_send_ttl_seconds" in body:
            template.message_send_ttl_seconds = body["message_send_ttl_seconds"]
        template.status = "PENDING"  # edits go back to review (cloud-api.md §4.3)
        self._schedule_review(template)

    def delete_templates(self, waba_id: str, name: str | None, hsm_id: str | None) -> None:
        if not name:
            raise GraphError(
                100, "Invalid parameter", message="(#100) The parameter name is required."
            )
        doomed = [
            t.id
            for t in self.state.templates.values()
            if t.waba_id == waba_id and t.name == name and (hsm_id is None or t.id == hsm_id)
        ]
        if not doomed:
            raise invalid_parameter(f"Message template {name} was not found.")
        for template_id in doomed:
            del self.state.templates[template_id]
