"""The composer's forms: a free-form reply, and an approved template's values.

Everything here is an agent's input, and the hidden fields can be anything a browser
sends: each field refuses what it cannot use with a form error, never an exception.
"""

from __future__ import annotations

import re
import uuid
from typing import Any

from django import forms
from django.core.validators import URLValidator

from inbox.composer.attachments import ACCEPT, ALLOWED_TYPES_TEXT, AttachmentRefused
from inbox.composer.attachments import check_attachment as check_file
from inbox.models import CannedResponse
from messaging.models import Conversation, Message
from templates_mgr.models import MessageTemplate
from templates_mgr.preview import VALUE_MAX, Variable, template_variables

JUSTIFICATION_MAX = 1000  # records.dlp.outbound.JUSTIFICATION_MAX
TEXT_MAX = 4096  # Meta's limit on a text message's body, in characters (code points)
CAPTION_MAX = 1024
_NO_CAPTION = {"audio": "Audio files", "sticker": "Stickers"}
# Meta refuses template values with a line break, a tab or more than 4 spaces in a row
# (error 132018).
_BAD_VALUE = re.compile(r"[\n\r\t]| {5,}")


def characters(text: str) -> int:
    """As WhatsApp counts them: an emoji is one character however many UTF-16 units."""
    return len(text)


def _normalized(text: str) -> str:
    return text.replace("\r\n", "\n").replace("\r", "\n")


def new_token() -> str:
    return str(uuid.uuid4())


def _token(value: str) -> str:
    try:
        return str(uuid.UUID(value))
    except (ValueError, TypeError, AttributeError):
        raise forms.ValidationError(
            "This form is out of date. Reload the page and send again."
        ) from None


_WIDGET_CLASSES = {
    forms.Textarea: "usa-textarea maxw-full",
    forms.Select: "usa-select maxw-full",
    forms.ClearableFileInput: "maxw-full",
    forms.URLInput: "usa-input maxw-full",
    forms.TextInput: "usa-input maxw-full",
}


class _Described(forms.Form):
    """USWDS classes on the widgets; hints and errors linked with ``aria-describedby``
    (``inbox/composer/field.html`` gives them these ids)."""

    def _style(self) -> None:
        for field in self.fields.values():
            for widget_type, css in _WIDGET_CLASSES.items():
                if type(field.widget) is widget_type:
                    field.widget.attrs.setdefault("class", css)
        self._describe()

    def _describe(self) -> None:
        errors = getattr(self, "_errors", None) or {}
        for name, field in self.fields.items():
            if field.widget.is_hidden:
                continue
            auto_id = self[name].auto_id
            ids = [f"{auto_id}-hint"] if field.help_text else []
            if name in errors:
                ids.append(f"{auto_id}-error")
                field.widget.attrs["aria-invalid"] = "true"
            if ids:
                field.widget.attrs["aria-describedby"] = " ".join(ids)

    def full_clean(self) -> None:
        super().full_clean()
        self._describe()

    def full_clean_describe(self) -> None:
        """After a view added an error (e.g. the DLP policy's refusal): link it to its field."""
        self._describe()


def _canned_label(canned: CannedResponse) -> str:
    return f"/{canned.shortcut}: {canned.title}"


class ReplyForm(_Described):
    text = forms.CharField(
        label="Message",
        required=False,
        strip=False,
        widget=forms.Textarea(attrs={"rows": 4}),
        help_text="Up to 4,096 characters. Type / and a shortcut for a saved reply.",
    )
    attachment = forms.FileField(
        label="Attach a file",
        required=False,
        help_text=ALLOWED_TYPES_TEXT,
        widget=forms.ClearableFileInput(attrs={"accept": ACCEPT}),
    )
    caption = forms.CharField(
        label="Caption for the file",
        required=False,
        strip=False,
        help_text="Shown under an image, a video or a document.",
    )
    reply_to = forms.CharField(required=False, widget=forms.HiddenInput)
    idempotency_key = forms.CharField(widget=forms.HiddenInput)
    justification = forms.CharField(
        label="Justification for sending sensitive data",
        required=False,
        strip=False,
        widget=forms.Textarea(attrs={"rows": 2}),
        help_text="Why this must be sent over WhatsApp. Recorded in the audit log with the "
        "kinds of data found; do not repeat the data here.",
    )
    canned = forms.ModelChoiceField(
        label="Saved reply",
        queryset=CannedResponse.objects.none(),
        required=False,
        empty_label="Choose a saved reply",
    )

    def __init__(self, *args: Any, conversation: Conversation, **kwargs: Any) -> None:
        kwargs.setdefault("auto_id", f"composer-{conversation.pk}-%s")
        super().__init__(*args, **kwargs)
        self.conversation = conversation
        field = self.fields["canned"]
        if isinstance(field, forms.ModelChoiceField):
            field.queryset = CannedResponse.objects.filter(agency_id=conversation.agency_id)
            field.label_from_instance = _canned_label  # type: ignore[method-assign,assignment]
        text = self.fields["text"].widget
        text.attrs.update(
            {
                "data-composer-text": "",
                "aria-autocomplete": "list",
                "aria-haspopup": "listbox",
                "aria-controls": f"composer-{conversation.pk}-canned-list",
            }
        )
        self._style()

    def clean_text(self) -> str:
        text = _normalized(self.cleaned_data.get("text") or "")
        count = characters(text)
        if count > TEXT_MAX:
            raise forms.ValidationError(
                f"Keep the message to {TEXT_MAX:,} characters; it has {count:,}."
            )
        return text if text.strip() else ""

    def clean_caption(self) -> str:
        caption = _normalized(self.cleaned_data.get("caption") or "")
        if characters(caption) > CAPTION_MAX:
            raise forms.ValidationError(
                f"Keep the caption to {CAPTION_MAX:,} characters; it has {characters(caption):,}."
            )
        return caption if caption.strip() else ""

    def clean_attachment(self) -> Any:
        upload = self.cleaned_data.get("attachment")
        if not upload:
            return None
        try:
            return check_file(upload)
        except AttachmentRefused as exc:
            raise forms.ValidationError(str(exc)) from None

    def clean_reply_to(self) -> Message | None:
        raw = (self.cleaned_data.get("reply_to") or "").strip()
        if not raw:
            return None
        message = None
        if raw.isdigit() and len(raw) < 19:
            message = (
                Message.objects.filter(conversation=self.conversation, pk=int(raw))
                .exclude(wamid__isnull=True)
                .exclude(wamid="")
                .first()
            )
        if message is None:
            raise forms.ValidationError(
                "The message you were replying to cannot be quoted. Cancel the reply and send "
                "without it."
            )
        return message

    def clean_idempotency_key(self) -> str:
        return _token(self.cleaned_data.get("idempotency_key", ""))

    def clean_justification(self) -> str:
        text = _normalized(self.cleaned_data.get("justification") or "").replace("\x00", "")
        if characters(text) > JUSTIFICATION_MAX:
            raise forms.ValidationError(
                f"Keep the justification to {JUSTIFICATION_MAX:,} characters."
            )
        return text.strip()

    def clean(self) -> dict[str, Any]:
        data = super().clean() or {}
        if self.data.get("action") == "insert":
            return data
        attachment = data.get("attachment")
        if "text" in data and "attachment" in data and not data["text"] and not attachment:
            self.add_error("text", "Write a message or attach a file.")
        if data.get("caption") and "attachment" in data:
            if not attachment:
                self.add_error("caption", "A caption goes with a file: attach one or clear it.")
            elif attachment.kind in _NO_CAPTION:
                self.add_error(
                    "caption", f"{_NO_CAPTION[attachment.kind]} cannot have a caption on WhatsApp."
                )
        return data


class TemplateForm(_Described):
    """One field per variable of ``template`` (``templates_mgr.preview.template_variables``)."""

    template = forms.CharField(widget=forms.HiddenInput)
    idempotency_key = forms.CharField(widget=forms.HiddenInput)
    justification = forms.CharField(
        label="Justification for sending sensitive data",
        required=False,
        strip=False,
        widget=forms.Textarea(attrs={"rows": 2}),
        help_text="Why these values must be sent over WhatsApp. Recorded in the audit log with "
        "the kinds of data found; do not repeat the data here.",
    )

    def __init__(
        self, *args: Any, conversation: Conversation, template: MessageTemplate, **kwargs: Any
    ) -> None:
        kwargs.setdefault("auto_id", f"template-{conversation.pk}-%s")
        super().__init__(*args, **kwargs)
        self.message_template = template
        self.variables: list[Variable] = template_variables(template)
        for variable in self.variables:
            self.fields[variable.key] = self._field(variable)
        self._style()

    @staticmethod
    def _field(variable: Variable) -> forms.Field:
        hint = f"For example: {variable.example}" if variable.example else ""
        if variable.media_kind:
            return forms.URLField(
                label=variable.label,
                max_length=2000,
                assume_scheme="https",
                validators=[URLValidator(schemes=["https"])],
                help_text="A public https link to the file WhatsApp will fetch.",
            )
        return forms.CharField(
            label=variable.label,
            max_length=VALUE_MAX,
            help_text=hint,
            error_messages={"required": "Fill in this value."},
        )

    def clean_idempotency_key(self) -> str:
        return _token(self.cleaned_data.get("idempotency_key", ""))

    def clean(self) -> dict[str, Any]:
        data = super().clean() or {}
        for variable in self.variables:
            value = data.get(variable.key)
            if isinstance(value, str) and not variable.media_kind and _BAD_VALUE.search(value):
                self.add_error(
                    variable.key,
                    "WhatsApp does not allow line breaks, tabs or more than 4 spaces in a row "
                    "in a template value.",
                )
        return data

    def clean_justification(self) -> str:
        text = _normalized(self.cleaned_data.get("justification") or "").replace("\x00", "")
        if characters(text) > JUSTIFICATION_MAX:
            raise forms.ValidationError(
                f"Keep the justification to {JUSTIFICATION_MAX:,} characters."
            )
        return text.strip()

    def values(self) -> dict[str, str]:
        return {v.key: str(self.cleaned_data.get(v.key) or "") for v in self.variables}
