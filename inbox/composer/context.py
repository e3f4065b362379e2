"""What ``frontend/templates/inbox/composer/composer.html`` needs: ``composer_context``.

The thread page merges ``composer_context(request, conversation)`` into its context and
includes the composer. The composer's own views pass a bound form, a refusal or a notice
when they render it again after a POST. Inside the customer-service window the agent writes
freely; outside it (or on ``?template=``) they choose an approved template of the number's
WABA and fill its variables. ``?reply_to=<message pk>`` starts a reply to that message
without JavaScript.
"""

from __future__ import annotations

from dataclasses import dataclass, field
from datetime import datetime
from typing import Any

from django.urls import reverse
from django.utils import timezone
from django.utils.translation import get_language_info

from inbox.composer.forms import ReplyForm, TemplateForm, new_token
from messaging import policy
from messaging.models import Conversation, Message
from records.capture.versions import current_content
from records.dlp.masking import Masker
from templates_mgr.models import MessageTemplate
from templates_mgr.preview import PreviewModel, render_preview
from tenants.http import MemberRequest
from tenants.models import Agency
from tenants.permissions import Perm


@dataclass(frozen=True)
class Window:
    open: bool
    expires_at: datetime | None
    time_left: str = ""  # "3 h 12 min"

    @property
    def text(self) -> str:
        if self.open:
            return f"Window open: {self.time_left} left"
        return "Window closed"


@dataclass(frozen=True)
class TemplateChoice:
    pk: int
    language: str
    label: str


@dataclass(frozen=True)
class TemplateGroup:
    name: str
    choices: tuple[TemplateChoice, ...]


@dataclass(frozen=True)
class Composer:
    conversation: Conversation
    window: Window
    can_reply: bool
    suspended: bool
    form: ReplyForm | None
    reply_summary: str
    groups: tuple[TemplateGroup, ...]
    show_templates: bool
    template: MessageTemplate | None
    template_form: TemplateForm | None
    preview: PreviewModel | None
    template_problem: str = ""
    refusal: str = ""
    notice: str = ""
    autofocus: bool = False
    # The agency's DLP policy refused the message (records.dlp): the words shown next to the
    # field, and whether the agent's role may send it anyway with a justification.
    dlp_refusal: str = ""
    dlp_override: bool = False
    timezone: str = "UTC"  # the agency's: fragments htmx swaps in have no page around them
    urls: dict[str, str] = field(default_factory=dict)

    @property
    def dom_id(self) -> str:
        return f"composer-{self.conversation.pk}"


def time_left(remaining_seconds: float) -> str:
    minutes = int(remaining_seconds // 60)
    if minutes < 1:
        return "less than 1 min"
    hours, minutes = divmod(minutes, 60)
    if not hours:
        return f"{minutes} min"
    return f"{hours} h {minutes} min" if minutes else f"{hours} h"


def window_of(conversation: Conversation, now: datetime) -> Window:
    expires = conversation.window_expires_at
    if policy.window_is_open(conversation, now) and expires is not None:
        return Window(True, expires, time_left((expires - now).total_seconds()))
    return Window(False, expires)


def language_label(code: str) -> str:
    for candidate in (code.replace("_", "-").lower(), code.split("_")[0].lower()):
        try:
            return f"{get_language_info(candidate)['name']} ({code})"
        except KeyError:
            continue
    return code


def approved_templates(conversation: Conversation) -> list[MessageTemplate]:
    return list(
        MessageTemplate.objects.filter(
            agency_id=conversation.agency_id,
            waba_id=conversation.phone_number.waba_id,
            status=MessageTemplate.Status.APPROVED,
        ).order_by("name", "language")
    )


def approved_template(conversation: Conversation, raw: Any) -> MessageTemplate | None:
    """The approved template ``raw`` names (an id from a form), on the number's WABA."""
    text = str(raw or "").strip()
    if not text.isdigit() or len(text) > 18:
        return None
    return next((t for t in approved_templates(conversation) if t.pk == int(text)), None)


def _groups(templates: list[MessageTemplate]) -> tuple[TemplateGroup, ...]:
    grouped: dict[str, list[TemplateChoice]] = {}
    for template in templates:
        grouped.setdefault(template.name, []).append(
            TemplateChoice(template.pk, template.language, language_label(template.language))
        )
    return tuple(TemplateGroup(name, tuple(choices)) for name, choices in grouped.items())


def _summary(message: Message) -> str:
    try:
        from inbox import rendering

        text = str(rendering.summary(current_content(message)))
    except (ImportError, AttributeError):  # the thread's renderer names its summary so
        content = current_content(message)
        body = content.get(message.type)
        text = str(body.get("body", "")) if isinstance(body, dict) else f"[{message.type}]"
    # The agency's DLP masking applies to the quote too (records.dlp.masking).
    return Masker.for_agency(message.agency_id).text(text)[:120]


def _reply_to(conversation: Conversation, raw: Any) -> Message | None:
    text = str(raw or "").strip()
    if not text.isdigit() or len(text) > 18:
        return None
    return (
        Message.objects.filter(conversation=conversation, pk=int(text))
        .exclude(wamid__isnull=True)
        .exclude(wamid="")
        .first()
    )


def _urls(conversation: Conversation) -> dict[str, str]:
    pk = conversation.pk
    return {
        "send": reverse("inbox:send", args=[pk]),
        "send_template": reverse("inbox:send_template", args=[pk]),
        "preview": reverse("inbox:template_preview", args=[pk]),
        "composer": reverse("inbox:composer", args=[pk]),
        "typing": reverse("inbox:typing", args=[pk]),
        "canned": reverse("inbox:canned"),
        "thread": reverse("inbox:conversation", args=[pk]),
    }


def _reply_form(request: MemberRequest, conversation: Conversation) -> ReplyForm:
    reply_to = _reply_to(conversation, request.GET.get("reply_to"))
    initial = {"idempotency_key": new_token(), "reply_to": reply_to.pk if reply_to else ""}
    return ReplyForm(conversation=conversation, initial=initial)


def _template_part(
    request: MemberRequest,
    conversation: Conversation,
    template: MessageTemplate | None,
    template_form: TemplateForm | None,
) -> tuple[MessageTemplate | None, TemplateForm | None, PreviewModel | None, str]:
    problem = ""
    if template is None and template_form is None and request.GET.get("template"):
        template = approved_template(conversation, request.GET.get("template"))
        if template is None:
            problem = "That template is not available for this number. Choose another one."
    if template_form is not None:
        template = template_form.message_template
    if template is None:
        return None, None, None, problem
    if template_form is None:
        initial = {"template": template.pk, "idempotency_key": new_token()}
        template_form = TemplateForm(conversation=conversation, template=template, initial=initial)
    values = {
        v.key: str(template_form.data.get(v.key, "")) if template_form.is_bound else ""
        for v in template_form.variables
    }
    return template, template_form, render_preview(template, values), problem


def composer_context(
    request: MemberRequest,
    conversation: Conversation,
    *,
    form: ReplyForm | None = None,
    template: MessageTemplate | None = None,
    template_form: TemplateForm | None = None,
    refusal: str = "",
    notice: str = "",
    autofocus: bool = False,
    dlp_refusal: str = "",
    dlp_override: bool = False,
) -> dict[str, Any]:
    """The context of ``inbox/composer/composer.html`` for ``conversation`` (``{"composer":
    Composer}``); call it inside the agency's scope (any view behind the agency middleware)."""
    window = window_of(conversation, timezone.now())
    agency: Agency = request.agency
    if form is None and window.open:
        form = _reply_form(request, conversation)
    asked = bool(request.GET.get("template") or request.GET.get("templates"))
    show_templates = not window.open or asked or template is not None or template_form is not None
    templates = approved_templates(conversation) if show_templates else []
    chosen, template_form, preview, problem = _template_part(
        request, conversation, template, template_form
    )
    reply_to = None
    if form is not None:
        raw = form.data.get("reply_to") if form.is_bound else form.initial.get("reply_to")
        reply_to = _reply_to(conversation, raw)
    composer = Composer(
        conversation=conversation,
        window=window,
        can_reply=request.membership.has_perm(Perm.REPLY),
        suspended=agency.status == Agency.Status.SUSPENDED,
        form=form,
        reply_summary=_summary(reply_to) if reply_to else "",
        groups=_groups(templates),
        show_templates=show_templates,
        template=chosen,
        template_form=template_form,
        preview=preview,
        template_problem=problem,
        refusal=refusal,
        notice=notice,
        autofocus=autofocus,
        dlp_refusal=dlp_refusal,
        dlp_override=dlp_override,
        timezone=agency.timezone or "UTC",
        urls=_urls(conversation),
    )
    return {"composer": composer}
