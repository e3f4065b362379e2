"""The Cloud API client: the only code in the project that talks to the Graph API.

``AsyncCloudAPIClient`` is the core, so a worker can keep many requests in flight;
``CloudAPIClient`` is a blocking wrapper for Celery tasks and views. Both take every
per-number value (phone number id, decrypted token) from the caller: no ORM in here.

The HTTP transport (aiohttp, one pool per event loop) is ``messaging.whatsapp.transport``. Sync
callers all share a single background loop thread, which makes that one pool per process for
them (re-created after fork, e.g. in Celery prefork children).
"""

from __future__ import annotations

import asyncio
import atexit
import contextlib
import logging
import os
import threading
import time
from collections.abc import AsyncIterator, Coroutine, Iterator, Mapping, Sequence
from dataclasses import dataclass
from typing import Any, TypeVar

from messaging.whatsapp import builders, transport
from messaging.whatsapp.errors import (
    CloudAPIError,
    InvalidMessageError,
    PolicyError,
    TransportError,
    error_from_payload,
)
from messaging.whatsapp.media import UPLOAD_MAX_BYTES, MediaInfo, UploadedMedia, check_upload
from messaging.whatsapp.templates import (
    TemplateCreated,
    TemplateInfo,
    TemplatePage,
    build_create_payload,
)
from messaging.whatsapp.transport import Timeouts

logger = logging.getLogger(__name__)

T = TypeVar("T")

DEFAULT_BASE_URL = "https://graph.facebook.com"
DEFAULT_API_VERSION = "v23.0"
TEMPLATE_FIELDS = "id,name,status,category,language,components,parameter_format,quality_score"


def _setting(name: str, fallback: str) -> str:
    """Read a Django setting when Django is configured; work without Django otherwise."""
    try:
        from django.conf import settings
        from django.core.exceptions import ImproperlyConfigured

        try:
            return str(getattr(settings, name, fallback) or fallback)
        except (ImproperlyConfigured, ImportError):
            return fallback
    except ImportError:
        return fallback


def normalize_version(version: str) -> str:
    version = version.strip().strip("/")
    return version if version.startswith("v") else f"v{version}"


@dataclass(frozen=True)
class SendResult:
    wamid: str
    wa_id: str | None
    input: str | None
    message_status: str | None  # "accepted" or "held_for_quality_assessment"


# --------------------------------------------------------------------------- shared pools


async def close_shared_http_client() -> None:
    """Close the running loop's pool (for graceful shutdown of an async worker)."""
    await transport.close_shared_session()


class _LoopThread:
    """A daemon thread running an event loop that sync callers submit coroutines to."""

    def __init__(self) -> None:
        self.pid = os.getpid()
        self.loop = asyncio.new_event_loop()
        self.thread = threading.Thread(
            target=self.loop.run_forever, name="cloud-api-loop", daemon=True
        )
        self.thread.start()
        atexit.register(self.close_pool)

    def run(self, coro: Coroutine[Any, Any, T]) -> T:
        return asyncio.run_coroutine_threadsafe(coro, self.loop).result()

    def close_pool(self) -> None:
        """At exit, while the daemon thread still runs: aiohttp logs an error for every
        session that is garbage-collected unclosed."""
        if self.pid != os.getpid() or not self.thread.is_alive():
            return  # a forked child inherits the handler but not the thread
        closing = asyncio.run_coroutine_threadsafe(transport.close_shared_session(), self.loop)
        with contextlib.suppress(Exception):
            closing.result(timeout=2)


_runner: _LoopThread | None = None
_runner_lock = threading.Lock()


def _background_loop() -> _LoopThread:
    global _runner
    with _runner_lock:
        # After fork the thread does not exist in the child: start a fresh one.
        if _runner is None or _runner.pid != os.getpid():
            _runner = _LoopThread()
        return _runner


# --------------------------------------------------------------------------- async client


class AsyncCloudAPIClient:
    """Calls for one phone number. Cheap to create; the pool underneath is shared."""

    def __init__(
        self,
        phone_number_id: str,
        access_token: str,
        *,
        base_url: str | None = None,
        api_version: str | None = None,
        timeouts: Timeouts | None = None,
        log_label: str | None = None,
    ) -> None:
        self.phone_number_id = str(phone_number_id)
        self._token = access_token
        base = base_url or _setting("GRAPH_API_BASE_URL", DEFAULT_BASE_URL)
        version = api_version or _setting("GRAPH_API_VERSION", DEFAULT_API_VERSION)
        self.base_url = base.rstrip("/")
        self.api_version = normalize_version(version)
        self.timeouts = timeouts or Timeouts()
        self.log_label = log_label  # e.g. the agency id, for the call log line

    def __repr__(self) -> str:  # never show the token
        return f"<AsyncCloudAPIClient phone_number_id={self.phone_number_id}>"

    def graph_url(self, path: str) -> str:
        return f"{self.base_url}/{self.api_version}/{path.lstrip('/')}"

    # ---- transport

    async def _request(
        self,
        method: str,
        path: str,
        *,
        endpoint: str,
        absolute_url: str | None = None,
        raw: bool = False,
        max_bytes: int | None = None,
        **kwargs: Any,  # json_body, form, params, content, extra_headers, auth_scheme
    ) -> Any:
        started = time.perf_counter()
        try:
            response = await transport.request(
                method,
                absolute_url or self.graph_url(path),
                endpoint=endpoint,
                token=self._token,
                timeouts=self.timeouts,
                max_bytes=max_bytes,
                **kwargs,
            )
        except TransportError:
            self._log(endpoint, method, None, None, started)
            raise
        if response.status >= 400:
            error = _error_from_response(response)
            self._log(endpoint, method, response.status, error.code, started)
            raise error
        self._log(endpoint, method, response.status, None, started)
        if raw:
            if max_bytes is not None and len(response.content) > max_bytes:
                raise CloudAPIError(f"Download larger than {max_bytes} bytes", http_status=200)
            return response.content
        return response.json()

    def _log(
        self, endpoint: str, method: str, status: int | None, code: int | None, started: float
    ) -> None:
        # Endpoint labels only: URLs may carry signed media hashes, bodies carry content.
        logger.info(
            "graph_call endpoint=%s method=%s status=%s code=%s duration_ms=%.1f "
            "phone_number_id=%s label=%s",
            endpoint,
            method,
            status,
            code,
            (time.perf_counter() - started) * 1000,
            self.phone_number_id,
            self.log_label,
        )

    # ---- messages

    async def send(
        self,
        to: str,
        message: builders.OutboundMessage,
        *,
        context_message_id: str | None = None,
        biz_opaque_callback_data: str | None = None,
    ) -> SendResult:
        """Send any built message; ``context_message_id`` makes it a quoted reply."""
        body = builders.build_message_payload(
            to,
            message,
            context_message_id=context_message_id,
            biz_opaque_callback_data=biz_opaque_callback_data,
        )
        try:
            data = await self._request(
                "POST", f"{self.phone_number_id}/messages", endpoint="messages.send", json_body=body
            )
        except CloudAPIError as exc:
            explained = _explain_marketing_error(exc)
            if explained is exc:
                raise
            raise explained from exc
        return _send_result(data)

    async def send_marketing(
        self,
        to: str,
        template: builders.Template | builders.Prebuilt,
        *,
        message_activity_sharing: bool | None = None,
        product_policy: str | None = None,
        context_message_id: str | None = None,
        biz_opaque_callback_data: str | None = None,
    ) -> SendResult:
        """A MARKETING template through Meta's Marketing Messages API
        (``POST /{phone-number-id}/marketing_messages``, "MM Lite"): the body of a template
        send, plus ``message_activity_sharing`` (share the citizen's activity on the message
        with Meta for optimisation) and ``product_policy`` (``CLOUD_API_FALLBACK``: Meta may
        deliver it as a Cloud API message where the API is unavailable; ``STRICT``: never).
        Same answer and status webhooks as ``send``."""
        if template.message_type != "template":  # a Template, or one stored (Prebuilt)
            raise InvalidMessageError("type", "the Marketing Messages API sends templates only")
        if product_policy is not None and product_policy not in MARKETING_PRODUCT_POLICIES:
            raise InvalidMessageError(
                "product_policy", f"must be one of {MARKETING_PRODUCT_POLICIES}"
            )
        body = builders.build_message_payload(
            to,
            template,
            context_message_id=context_message_id,
            biz_opaque_callback_data=biz_opaque_callback_data,
        )
        if message_activity_sharing is not None:
            body["message_activity_sharing"] = bool(message_activity_sharing)
        if product_policy is not None:
            body["product_policy"] = product_policy
        try:
            data = await self._request(
                "POST",
                f"{self.phone_number_id}/marketing_messages",
                endpoint="marketing_messages.send",
                json_body=body,
            )
        except CloudAPIError as exc:
            explained = _explain_marketing_error(exc)
            if explained is exc:
                raise
            raise explained from exc
        return _send_result(data)

    async def send_text(
        self, to: str, body: str, *, preview_url: bool = False, **kwargs: Any
    ) -> SendResult:
        return await self.send(to, builders.Text(body, preview_url), **kwargs)

    async def send_template(
        self, to: str, template: builders.Template, **kwargs: Any
    ) -> SendResult:
        return await self.send(to, template, **kwargs)

    async def mark_read(self, message_id: str, *, typing_indicator: bool = False) -> None:
        """Mark an inbound message read (and optionally show "typing…" for up to 25 s)."""
        body = builders.build_mark_read_payload(message_id, typing_indicator=typing_indicator)
        await self._request(
            "POST", f"{self.phone_number_id}/messages", endpoint="messages.read", json_body=body
        )

    async def send_typing_indicator(self, message_id: str) -> None:
        await self.mark_read(message_id, typing_indicator=True)

    # ---- media

    async def upload_media(
        self,
        content: bytes,
        mime_type: str,
        *,
        filename: str = "file",
        kind: str | None = None,
    ) -> UploadedMedia:
        """Multipart upload; size and MIME are checked against Meta's table first."""
        check_upload(len(content), mime_type, kind)
        data = await self._request(
            "POST",
            f"{self.phone_number_id}/media",
            endpoint="media.upload",
            form=transport.Form(
                fields={"messaging_product": "whatsapp", "type": mime_type},
                file_field="file",
                filename=filename,
                content=content,
                content_type=mime_type,
            ),
        )
        return UploadedMedia(id=str(data["id"]))

    async def get_media(self, media_id: str) -> MediaInfo:
        """A short-lived (5 min) download URL plus metadata."""
        data = await self._request(
            "GET",
            str(media_id),
            endpoint="media.get",
            params={"phone_number_id": self.phone_number_id},
        )
        return MediaInfo.from_json(data)

    async def download_media(self, url: str, *, max_bytes: int = UPLOAD_MAX_BYTES) -> bytes:
        """Fetch the bytes behind a media URL; Meta requires the same bearer token."""
        content: bytes = await self._request(
            "GET", "", endpoint="media.download", absolute_url=url, raw=True, max_bytes=max_bytes
        )
        return content

    async def delete_media(self, media_id: str) -> None:
        await self._request(
            "DELETE",
            str(media_id),
            endpoint="media.delete",
            params={"phone_number_id": self.phone_number_id},
        )

    # ---- resumable upload (template header samples; cloud-api.md §3)

    async def create_upload_session(
        self, app_id: str, file_name: str, file_length: int, file_type: str
    ) -> str:
        """``POST /{app-id}/uploads``: an upload session id (``upload:…``) for one file."""
        if not str(app_id or "").strip():
            raise InvalidMessageError("app_id", "is required (setting WHATSAPP_APP_ID)")
        if int(file_length) <= 0:
            raise InvalidMessageError("file_length", "must be positive")
        data = await self._request(
            "POST",
            f"{app_id}/uploads",
            endpoint="uploads.create",
            params={
                "file_name": file_name,
                "file_length": int(file_length),
                "file_type": file_type,
            },
        )
        return str(data["id"])

    async def upload_file(self, session_id: str, content: bytes, offset: int = 0) -> str:
        """``POST /{upload-id}`` with the bytes from ``offset`` on; returns the file handle
        (``h``) a template's ``header_handle`` takes. After a broken connection, resume with
        the offset ``upload_offset`` reports and the rest of the bytes."""
        data = await self._request(
            "POST",
            session_id,
            endpoint="uploads.upload",
            content=content,
            extra_headers={"file_offset": str(int(offset))},
            auth_scheme="OAuth",
        )
        return str(data["h"])

    async def upload_offset(self, session_id: str) -> int:
        """``GET /{upload-id}``: how many bytes of the file Meta already has."""
        data = await self._request(
            "GET", session_id, endpoint="uploads.status", auth_scheme="OAuth"
        )
        return int(data.get("file_offset", 0))

    # ---- templates (WABA-level calls; the token must manage that WABA)

    async def list_templates(
        self,
        waba_id: str,
        *,
        limit: int = 50,
        after: str | None = None,
        before: str | None = None,
        status: str | None = None,
        name: str | None = None,
        fields: str = TEMPLATE_FIELDS,
    ) -> TemplatePage:
        params: dict[str, Any] = {"fields": fields, "limit": limit}
        for key, value in (("after", after), ("before", before), ("status", status)):
            if value is not None:
                params[key] = value
        if name is not None:
            params["name"] = name
        data = await self._request(
            "GET", f"{waba_id}/message_templates", endpoint="templates.list", params=params
        )
        paging = data.get("paging") or {}
        cursors = paging.get("cursors") or {}
        return TemplatePage(
            templates=tuple(TemplateInfo.from_json(t) for t in data.get("data", [])),
            before=cursors.get("before"),
            after=cursors.get("after"),
            has_next="next" in paging,
        )

    async def iter_templates(self, waba_id: str, **kwargs: Any) -> AsyncIterator[TemplateInfo]:
        """Every template of the WABA, following ``paging.cursors.after``."""
        after: str | None = None
        while True:
            page = await self.list_templates(waba_id, after=after, **kwargs)
            for template in page.templates:
                yield template
            if not page.has_next or not page.after:
                return
            after = page.after

    async def get_template(self, template_id: str) -> TemplateInfo:
        data = await self._request(
            "GET", str(template_id), endpoint="templates.get", params={"fields": TEMPLATE_FIELDS}
        )
        return TemplateInfo.from_json(data)

    async def create_template(
        self,
        waba_id: str,
        *,
        name: str,
        language: str,
        category: str,
        components: Sequence[Mapping[str, Any]],
        parameter_format: str | None = None,
        message_send_ttl_seconds: int | None = None,
    ) -> TemplateCreated:
        body = build_create_payload(
            name=name,
            language=language,
            category=category,
            components=components,
            parameter_format=parameter_format,
            message_send_ttl_seconds=message_send_ttl_seconds,
        )
        data = await self._request(
            "POST", f"{waba_id}/message_templates", endpoint="templates.create", json_body=body
        )
        return TemplateCreated(
            id=str(data["id"]), status=str(data["status"]), category=str(data["category"])
        )

    async def edit_template(
        self,
        template_id: str,
        *,
        components: Sequence[Mapping[str, Any]] | None = None,
        category: str | None = None,
        message_send_ttl_seconds: int | None = None,
    ) -> None:
        body: dict[str, Any] = {}
        if components is not None:
            body["components"] = [dict(c) for c in components]
        if category is not None:
            body["category"] = category
        if message_send_ttl_seconds is not None:
            body["message_send_ttl_seconds"] = message_send_ttl_seconds
        if not body:
            raise InvalidMessageError("components", "nothing to edit")
        await self._request("POST", str(template_id), endpoint="templates.edit", json_body=body)

    async def delete_template(
        self, waba_id: str, *, name: str, template_id: str | None = None
    ) -> None:
        """Delete every language of ``name``, or only the translation ``template_id``."""
        params = {"name": name}
        if template_id is not None:
            params["hsm_id"] = str(template_id)
        await self._request(
            "DELETE", f"{waba_id}/message_templates", endpoint="templates.delete", params=params
        )


MARKETING_PRODUCT_POLICIES = ("CLOUD_API_FALLBACK", "STRICT")
# Marketing Messages API refusals (cloud-api.md §6.2, §7.6). 131055 says either "not a
# marketing template" or "the business has not accepted the API's terms"; 131063 is /messages
# refusing marketing templates where Meta turned that off for the WABA.
MM_NOT_ALLOWED = 131055
MARKETING_DISABLED_ON_CLOUD_API = 131063


def _explain_marketing_error(exc: CloudAPIError) -> CloudAPIError:
    """The Marketing Messages API's refusals in staff's words, as policy errors: neither is
    the token's fault (an auth error would disconnect the number) and no retry helps."""
    if exc.code == MM_NOT_ALLOWED:
        said = f"{exc.message} {exc.details or ''}".lower()
        if "terms" in said or "onboard" in said:
            reason = (
                "The agency is not set up for Meta's Marketing Messages API (its terms are not "
                "accepted for this business). Accept them in Meta Business Suite, or turn the "
                "Marketing Messages API off in the agency settings."
            )
        else:
            reason = (
                "Only marketing templates can go through Meta's Marketing Messages API; "
                "utility and authentication templates are sent through the Cloud API."
            )
    elif exc.code == MARKETING_DISABLED_ON_CLOUD_API:
        reason = (
            "Meta has turned off marketing templates through the Cloud API for this WhatsApp "
            "account. Turn on the Marketing Messages API in the agency settings to send them."
        )
    else:
        return exc
    return PolicyError(
        exc.message,
        code=exc.code,
        subcode=exc.subcode,
        error_type=exc.error_type,
        details=exc.details,
        fbtrace_id=exc.fbtrace_id,
        http_status=exc.http_status,
        reason=reason,
        user_title=exc.user_title,
        user_message=exc.user_message,
    )


def _send_result(data: Mapping[str, Any]) -> SendResult:
    message = (data.get("messages") or [{}])[0]
    contact = (data.get("contacts") or [{}])[0]
    return SendResult(
        wamid=str(message["id"]),
        wa_id=contact.get("wa_id"),
        input=contact.get("input"),
        message_status=message.get("message_status"),
    )


def _retry_after_header(response: transport.Response) -> float | None:
    value = response.headers.get("retry-after")
    try:
        return float(value) if value is not None else None
    except ValueError:
        return None


def _error_from_response(response: transport.Response) -> CloudAPIError:
    try:
        payload = response.json()
    except ValueError:
        payload = None
    if not isinstance(payload, Mapping) or not isinstance(payload.get("error"), Mapping):
        # A proxy or load balancer answered, not Graph: keep only the status line.
        payload = {"error": {"message": f"HTTP {response.status} without a Graph error"}}
    return error_from_payload(
        payload, http_status=response.status, retry_after=_retry_after_header(response)
    )


# --------------------------------------------------------------------------- sync wrapper


class CloudAPIClient:
    """Blocking facade over ``AsyncCloudAPIClient`` (same arguments, same results)."""

    def __init__(self, phone_number_id: str, access_token: str, **kwargs: Any) -> None:
        self.aio = AsyncCloudAPIClient(phone_number_id, access_token, **kwargs)

    def __repr__(self) -> str:
        return f"<CloudAPIClient phone_number_id={self.aio.phone_number_id}>"

    @staticmethod
    def _run(coro: Coroutine[Any, Any, T]) -> T:
        return _background_loop().run(coro)

    def send(self, to: str, message: builders.OutboundMessage, **kwargs: Any) -> SendResult:
        return self._run(self.aio.send(to, message, **kwargs))

    def send_text(self, to: str, body: str, **kwargs: Any) -> SendResult:
        return self._run(self.aio.send_text(to, body, **kwargs))

    def send_marketing(
        self, to: str, template: builders.Template | builders.Prebuilt, **kwargs: Any
    ) -> SendResult:
        return self._run(self.aio.send_marketing(to, template, **kwargs))

    def send_template(self, to: str, template: builders.Template, **kwargs: Any) -> SendResult:
        return self._run(self.aio.send_template(to, template, **kwargs))

    def mark_read(self, message_id: str, *, typing_indicator: bool = False) -> None:
        self._run(self.aio.mark_read(message_id, typing_indicator=typing_indicator))

    def send_typing_indicator(self, message_id: str) -> None:
        self._run(self.aio.send_typing_indicator(message_id))

    def upload_media(self, content: bytes, mime_type: str, **kwargs: Any) -> UploadedMedia:
        return self._run(self.aio.upload_media(content, mime_type, **kwargs))

    def get_media(self, media_id: str) -> MediaInfo:
        return self._run(self.aio.get_media(media_id))

    def download_media(self, url: str, **kwargs: Any) -> bytes:
        return self._run(self.aio.download_media(url, **kwargs))

    def delete_media(self, media_id: str) -> None:
        self._run(self.aio.delete_media(media_id))

    def list_templates(self, waba_id: str, **kwargs: Any) -> TemplatePage:
        return self._run(self.aio.list_templates(waba_id, **kwargs))

    def iter_templates(self, waba_id: str, **kwargs: Any) -> Iterator[TemplateInfo]:
        after: str | None = None
        while True:
            page = self.list_templates(waba_id, after=after, **kwargs)
            yield from page.templates
            if not page.has_next or not page.after:
                return
            after = page.after

    def get_template(self, template_id: str) -> TemplateInfo:
        return self._run(self.aio.get_template(template_id))

    def create_template(self, waba_id: str, **kwargs: Any) -> TemplateCreated:
        return self._run(self.aio.create_template(waba_id, **kwargs))

    def edit_template(self, template_id: str, **kwargs: Any) -> None:
        self._run(self.aio.edit_template(template_id, **kwargs))

    def delete_template(self, waba_id: str, **kwargs: Any) -> None:
        self._run(self.aio.delete_template(waba_id, **kwargs))

    def create_upload_session(
        self, app_id: str, file_name: str, file_length: int, file_type: str
    ) -> str:
        return self._run(self.aio.create_upload_session(app_id, file_name, file_length, file_type))

    def upload_file(self, session_id: str, content: bytes, offset: int = 0) -> str:
        return self._run(self.aio.upload_file(session_id, content, offset))

    def upload_offset(self, session_id: str) -> int:
        return self._run(self.aio.upload_offset(session_id))


@dataclass(frozen=True)
class BatchItem:
    to: str
    message: builders.OutboundMessage
    context_message_id: str | None = None
    biz_opaque_callback_data: str | None = None
    # Through the Marketing Messages API (a MARKETING template) instead of /messages.
    marketing_messages: bool = False


def send_many(
    phone_number_id: str,
    access_token: str,
    items: Sequence[BatchItem],
    *,
    concurrency: int = 64,
    **client_kwargs: Any,
) -> list[SendResult | CloudAPIError]:
    """Send a batch from one number with up to ``concurrency`` requests in flight.

    For sync callers (Celery workers): the sends run on the process's background event loop,
    so one worker process keeps many requests in flight. Each item's outcome is returned in
    order: its SendResult or the CloudAPIError it raised (never raised here).
    """
    client = AsyncCloudAPIClient(phone_number_id, access_token, **client_kwargs)

    async def one(item: BatchItem, limit: asyncio.Semaphore) -> SendResult | CloudAPIError:
        try:
            async with limit:
                message = item.message
                if item.marketing_messages and isinstance(
                    message, builders.Template | builders.Prebuilt
                ):
                    return await client.send_marketing(
                        item.to,
                        message,
                        context_message_id=item.context_message_id,
                        biz_opaque_callback_data=item.biz_opaque_callback_data,
                    )
                return await client.send(
                    item.to,
                    item.message,
                    context_message_id=item.context_message_id,
                    biz_opaque_callback_data=item.biz_opaque_callback_data,
                )
        except CloudAPIError as exc:
            return exc

    async def run_all() -> list[SendResult | CloudAPIError]:
        limit = asyncio.Semaphore(max(1, concurrency))
        return list(await asyncio.gather(*(one(item, limit) for item in items)))

    return _background_loop().run(run_all())
