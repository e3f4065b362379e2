"""The composer's endpoints: send a reply or a template, preview a template, find saved
replies, tell WhatsApp the agent is typing.

Without JavaScript a send is a plain POST: success redirects to the thread with a message,
a problem renders the composer again (with what the agent typed) on a page of its own. With
htmx the answer is a fragment: the fresh composer, plus the new messages swapped out of band
into the thread's ``#thread-messages``.
"""

from __future__ import annotations

import importlib
import logging
from collections.abc import Sequence
from typing import Any

from django.contrib import messages as flash
from django.http import Http404, HttpResponse, JsonResponse
from django.shortcuts import get_object_or_404, redirect, render
from django.template import TemplateDoesNotExist
from django.template.loader import get_template
from django.urls import reverse
from django.views.decorators.http import require_GET, require_POST

from frontend.decorators import agency_perm_required
from inbox import services as inbox_services
from inbox.composer import services
from inbox.composer.context import approved_template, composer_context
from inbox.composer.forms import ReplyForm, TemplateForm, new_token
from inbox.models import CannedResponse
from messaging.models import Conversation, Message
from messaging.policy import Rule, SendRefused
from messaging.whatsapp.errors import InvalidMessageError
from records.audit import Actor
from records.dlp import services as dlp_services
from templates_mgr.preview import VALUE_MAX, render_preview, template_variables
from tenants.http import MemberRequest
from tenants.permissions import Perm

logger = logging.getLogger(__name__)

CANNED_RESULTS = 10
COMPOSER = "inbox/composer/composer.html"
MESSAGE = "inbox/messages/message.html"  # one bubble of the thread (inbox.rendering)


def _conversation(request: MemberRequest, pk: int) -> Conversation:
    rows = Conversation.objects.filter(agency=request.agency).select_related(
        "contact", "phone_number__waba"
    )
    return get_object_or_404(rows, pk=pk)


def _htmx(request: MemberRequest) -> bool:
    return bool(getattr(request, "htmx", False))


def _composer(
    request: MemberRequest, conversation: Conversation, *, problem: bool = False, **kwargs: Any
) -> HttpResponse:
    context = composer_context(request, conversation, **kwargs)
    if _htmx(request):
        # htmx swaps 2xx answers only: a refusal is still the composer to show.
        return render(request, COMPOSER, context)
    context["conversation"] = conversation
    return render(request, "inbox/composer/page.html", context, status=400 if problem else 200)


def _message_views(rows: Sequence[Message]) -> tuple[list[Any], str]:
    """The thread's own rendering of the new messages when it is there, else a plain one."""
    try:
        rendering = importlib.import_module("inbox.rendering")
        get_template(MESSAGE)
        return list(rendering.thread_items(list(rows))), MESSAGE
    except (ImportError, AttributeError, TemplateDoesNotExist) as exc:
        logger.debug("thread rendering unavailable: %s", exc)
    return list(rows), "inbox/composer/sent_fallback.html"


def _sent(
    request: MemberRequest, conversation: Conversation, rows: Sequence[Message], notice: str
) -> HttpResponse:
    if not _htmx(request):
        flash.success(request, notice)
        thread = reverse("inbox:conversation", args=[conversation.pk])
        return redirect(f"{thread}#composer-{conversation.pk}")
    views, include = _message_views(rows)
    context = composer_context(request, conversation, notice=notice, autofocus=True)
    context.update({"sent_views": views, "message_include": include})
    return render(request, "inbox/composer/sent.html", context)


@require_POST
@agency_perm_required(Perm.REPLY)
def send(request: MemberRequest, pk: int) -> HttpResponse:
    conversation = _conversation(request, pk)
    form = ReplyForm(request.POST, request.FILES, conversation=conversation)
    if request.POST.get("action") == "insert":
        return _insert_canned(request, conversation, form)
    if not form.is_valid():
        return _composer(request, conversation, form=form, problem=True)
    data = form.cleaned_data
    reply = services.Reply(
        data["text"],
        data["attachment"],
        data["caption"],
        data["reply_to"],
        justification=data.get("justification", ""),
    )
    key = services.idempotency_key(conversation, data["idempotency_key"])
    try:
        rows = services.send_reply(
            agency=request.agency,
            user=request.user,
            actor=Actor.from_request(request),
            conversation=conversation,
            reply=reply,
            key=key,
        )
    except SendRefused as exc:
        if exc.rule == Rule.SENSITIVE_DATA:
            return _sensitive(request, conversation, form, exc)
        return _composer(request, conversation, form=form, refusal=exc.message, problem=True)
    except services.ReplyFailed as exc:
        return _composer(request, conversation, form=form, refusal=exc.message, problem=True)
    except InvalidMessageError as exc:
        refusal = f"WhatsApp would not accept this message: {exc}"
        return _composer(request, conversation, form=form, refusal=refusal, problem=True)
    noun = "Message" if len(rows) == 1 else "Messages"
    return _sent(request, conversation, rows, f"{noun} queued for sending.")


def _sensitive(
    request: MemberRequest, conversation: Conversation, form: ReplyForm, exc: SendRefused
) -> HttpResponse:
    """The DLP policy refused the reply: the reason next to the field that carries the data
    (the kinds found, never the values) and, for a role that may override, the
    justification field."""
    field = "text" if form.cleaned_data.get("text") else "caption"
    if exc.details.get("justification"):
        field = "justification"  # the justification itself was refused
    form.add_error(field, exc.message)
    form.full_clean_describe()
    return _composer(
        request,
        conversation,
        form=form,
        problem=True,
        dlp_refusal=exc.message,
        dlp_override=bool(exc.details.get("may_override")),
    )


def _insert_canned(
    request: MemberRequest, conversation: Conversation, form: ReplyForm
) -> HttpResponse:
    """The no-JavaScript way to a saved reply: the form again with its body added."""
    form.is_valid()  # for cleaned text and the chosen saved reply; nothing is sent
    canned = form.cleaned_data.get("canned")
    text = form.cleaned_data.get("text", "") or ""
    if isinstance(canned, CannedResponse):
        text = f"{text.rstrip()}\n{canned.body}" if text.strip() else canned.body
    reply_to = request.POST.get("reply_to", "")
    token = request.POST.get("idempotency_key", "") or new_token()
    fresh = ReplyForm(
        conversation=conversation,
        initial={
            "text": text,
            "caption": request.POST.get("caption", ""),
            "reply_to": reply_to if str(reply_to).isdigit() else "",
            "idempotency_key": token if form.cleaned_data.get("idempotency_key") else new_token(),
        },
    )
    notice = "" if canned else "Choose a saved reply to insert."
    return _composer(request, conversation, form=fresh, notice=notice, autofocus=True)


@require_POST
@agency_perm_required(Perm.REPLY)
def send_template(request: MemberRequest, pk: int) -> HttpResponse:
    conversation = _conversation(request, pk)
    template = approved_template(conversation, request.POST.get("template"))
    if template is None:
        refusal = "That template is not available for this number. Choose another one."
        return _composer(request, conversation, refusal=refusal, problem=True)
    form = TemplateForm(request.POST, conversation=conversation, template=template)
    if not form.is_valid():
        return _composer(request, conversation, template_form=form, problem=True)
    key = services.idempotency_key(conversation, form.cleaned_data["idempotency_key"])
    try:
        row = services.send_template_reply(
            agency=request.agency,
            user=request.user,
            actor=Actor.from_request(request),
            conversation=conversation,
            template=template,
            values=form.values(),
            key=key,
            justification=form.cleaned_data.get("justification", ""),
        )
    except SendRefused as exc:
        if exc.rule == Rule.SENSITIVE_DATA:
            if exc.details.get("justification"):
                form.add_error("justification", exc.message)
                form.full_clean_describe()
            return _composer(
                request,
                conversation,
                template_form=form,
                problem=True,
                dlp_refusal=exc.message,
                dlp_override=bool(exc.details.get("may_override")),
            )
        return _composer(
            request, conversation, template_form=form, refusal=exc.message, problem=True
        )
    except InvalidMessageError as exc:
        refusal = f"WhatsApp would not accept these values: {exc}"
        return _composer(request, conversation, template_form=form, refusal=refusal, problem=True)
    return _sent(request, conversation, [row], f"Template “{template.name}” queued for sending.")


@require_GET
@agency_perm_required(Perm.VIEW_INBOX)
def composer(request: MemberRequest, pk: int) -> HttpResponse:
    """The composer alone (the template picker asks for it with htmx); a page without."""
    return _composer(request, _conversation(request, pk))


@require_GET
@agency_perm_required(Perm.VIEW_INBOX)
def template_preview(request: MemberRequest, pk: int) -> HttpResponse:
    conversation = _conversation(request, pk)
    template = approved_template(conversation, request.GET.get("template"))
    if template is None:
        raise Http404("No such template")
    values = {
        v.key: str(request.GET.get(v.key, ""))[:VALUE_MAX] for v in template_variables(template)
    }
    return render(
        request, "templates_mgr/preview.html", {"preview": render_preview(template, values)}
    )


@require_GET
@agency_perm_required(Perm.VIEW_INBOX)
def canned(request: MemberRequest) -> JsonResponse:
    """The agency's saved replies whose shortcut starts with ``q`` (a leading / is ignored),
    then those whose title contains it."""
    # PostgreSQL text cannot hold NUL: a hostile query must not become a 500.
    query = str(request.GET.get("q", "")).replace("\x00", "").lstrip("/").strip()[:40]
    rows = CannedResponse.objects.filter(agency=request.agency)
    found = list(rows.filter(shortcut__istartswith=query)[:CANNED_RESULTS])
    if query and len(found) < CANNED_RESULTS:
        more = rows.filter(title__icontains=query).exclude(pk__in=[c.pk for c in found])
        found += list(more[: CANNED_RESULTS - len(found)])
    results = [
        {"id": c.pk, "shortcut": c.shortcut, "title": c.title, "body": c.body} for c in found
    ]
    return JsonResponse({"results": results})


@require_POST
@agency_perm_required(Perm.REPLY)
def typing(request: MemberRequest, pk: int) -> HttpResponse:
    conversation = _conversation(request, pk)
    inbox_services.show_typing(conversation)
    return HttpResponse(status=204)


@require_POST
@agency_perm_required(Perm.VIEW_INBOX)
def reveal(request: MemberRequest, pk: int, message_pk: int) -> HttpResponse:
    """One message of the thread without its DLP masking, for a role the agency's policy
    allows; audited (``records.dlp.services.reveal``). With htmx the message's fragment
    (swapped in place of the masked one), else a page of its own."""
    from inbox.rendering import thread_items

    conversation = _conversation(request, pk)
    message = get_object_or_404(Message, conversation=conversation, pk=message_pk)
    try:
        dlp_services.reveal(
            agency=request.agency,
            actor=Actor.from_request(request),
            role=request.membership.role,
            message=message,
        )
    except dlp_services.RevealRefused as exc:
        return render(
            request,
            "records/dlp/reveal_refused.html",
            {"conversation": conversation, "reason": str(exc)},
            status=403,
        )
    views = thread_items([message], tz=request.agency.timezone, reveal=True)
    if not views:
        raise Http404
    context = {"view": views[0], "conversation": conversation}
    if _htmx(request):
        return render(request, MESSAGE, context)
    return render(request, "records/dlp/revealed.html", context)
