"""The hosted opt-in page's views (public: no sign-in; see ``public`` for the protections)."""

from __future__ import annotations

from typing import Any

from django import forms
from django.http import Http404, HttpRequest, HttpResponse
from django.shortcuts import render
from django.views.decorators.csrf import csrf_protect

from messaging.consent import public, services
from messaging.consent.models import ConsentTopic
from messaging.wa_ids import default_region, to_wa_id
from tenants.models import Agency
from tenants.scoping import agency_scope, system_scope

T = "consent/public/"

TEXT = {
    "en": {
        "phone": "Your WhatsApp phone number",
        "phone_hint": "With the area code, e.g. (555) 010-0100. Outside the United States, "
        "start with + and the country code.",
        "agree": "I agree",
        "honeypot": "Leave this field empty",
        "phone_required": "Enter your phone number.",
        "phone_invalid": "Enter a valid phone number, e.g. (555) 010-0100 or +52 55 1234 5678.",
        "agree_required": "Check the box to agree to receive these messages.",
        "expired": "The form was open too long. Check your answers and send it again.",
        "too_fast": "The form was sent too quickly. Please check your answers and send it again.",
    },
    "es": {
        "phone": "Su número de teléfono de WhatsApp",
        "phone_hint": "Con el código de área, p. ej. (555) 010-0100. Fuera de Estados Unidos, "
        "empiece con + y el código del país.",
        "agree": "Acepto",
        "honeypot": "Deje este campo vacío",
        "phone_required": "Escriba su número de teléfono.",
        "phone_invalid": "Escriba un número de teléfono válido, p. ej. (555) 010-0100 o "
        "+52 55 1234 5678.",
        "agree_required": "Marque la casilla para aceptar recibir estos mensajes.",
        "expired": "El formulario estuvo abierto demasiado tiempo. Revise sus respuestas y "
        "envíelo de nuevo.",
        "too_fast": "El formulario se envió demasiado rápido. Revise sus respuestas y envíelo "
        "de nuevo.",
    },
}


class OptInForm(forms.Form):
    phone = forms.CharField(max_length=40, required=False)
    agree = forms.BooleanField(required=False)
    website = forms.CharField(required=False, max_length=200)  # the honeypot
    token = forms.CharField(max_length=500, widget=forms.HiddenInput)
    lang = forms.CharField(max_length=2, required=False, widget=forms.HiddenInput)

    def __init__(self, *args: Any, language: str = "en", region: str = "US", **kwargs: Any) -> None:
        super().__init__(*args, **kwargs)
        self.text = TEXT[language]
        self.region = region
        self.wa_id: str | None = None
        self.fields["phone"].label = self.text["phone"]
        self.fields["phone"].help_text = self.text["phone_hint"]
        self.fields["agree"].label = self.text["agree"]

    def clean(self) -> dict[str, Any]:
        data = super().clean() or {}
        phone = (data.get("phone") or "").strip()
        if not phone:
            self.add_error("phone", self.text["phone_required"])
        else:
            self.wa_id = to_wa_id(phone, self.region)
            if self.wa_id is None:
                self.add_error("phone", self.text["phone_invalid"])
        if not data.get("agree"):
            self.add_error("agree", self.text["agree_required"])
        return data


def _topic(agency_slug: str, topic_slug: str) -> ConsentTopic:
    with system_scope():  # the agency comes from the address, not a session
        agency = Agency.objects.filter(slug=agency_slug, status=Agency.Status.ACTIVE).first()
    if agency is None:
        raise Http404
    with agency_scope(agency):
        topic = ConsentTopic.objects.filter(
            agency=agency, slug=topic_slug, page_enabled=True
        ).first()
    if topic is None:
        raise Http404
    topic.agency = agency
    return topic


def _render(
    request: HttpRequest,
    template: str,
    topic: ConsentTopic,
    language: str,
    context: dict[str, Any] | None = None,
    status: int = 200,
) -> HttpResponse:
    with agency_scope(topic.agency):
        link = public.whatsapp_link(topic)
    base = {
        "topic": topic,
        "agency": topic.agency,
        "language": language,
        "other_language": "es" if language == "en" else "en",
        "topic_name": public.topic_name(topic, language),
        "wording": public.wording(topic, language),
        "whatsapp": link,
        "page_path": public.page_path(topic),
    }
    return render(request, template, {**base, **(context or {})}, status=status)


@csrf_protect
def optin_page(request: HttpRequest, agency_slug: str, topic_slug: str) -> HttpResponse:
    topic = _topic(agency_slug, topic_slug)
    language = public.language_of(request)
    with agency_scope(topic.agency):
        region = default_region(topic.agency)
    if request.method != "POST":
        form = OptInForm(
            initial={"token": public.issue_token(topic, language), "lang": language},
            language=language,
            region=region,
        )
        return _render(request, T + "page.html", topic, language, {"form": form})
    if public.over_request_limits(request, topic.agency):
        return _render(request, T + "too_many.html", topic, language, status=429)
    form = OptInForm(request.POST, language=language, region=region)
    problem = None
    if form.is_valid():
        try:
            public.check_token(form.cleaned_data["token"], topic)
        except public.TokenProblem as exc:
            problem = form.text["expired" if str(exc) == "expired" else "too_fast"]
    if not form.is_valid() or problem:
        fresh = request.POST.copy()
        fresh["token"] = public.issue_token(topic, language)
        form = OptInForm(fresh, language=language, region=region)
        form.is_valid()
        if problem:
            form.add_error(None, problem)
        return _render(request, T + "page.html", topic, language, {"form": form}, status=400)
    if form.cleaned_data["website"]:
        # A bot filled the field people never see: thank it, record nothing.
        return _render(request, T + "thanks.html", topic, language)
    wa_id = form.wa_id or ""
    with agency_scope(topic.agency):
        if not public.over_phone_limit(topic.agency, wa_id):
            services.record_web_form_opt_in(
                topic=topic,
                wa_id=wa_id,
                wording=public.wording(topic, language),
                language=language,
                ip_address=public.client_ip(request),
                user_agent=request.META.get("HTTP_USER_AGENT", ""),
            )
    # The same answer whether the number was new, subscribed, opted out, or over its limit.
    return _render(request, T + "thanks.html", topic, language)


def optin_qr(request: HttpRequest, agency_slug: str, topic_slug: str) -> HttpResponse:
    """A QR code that starts a WhatsApp conversation with the agency (the topic keyword
    pre-filled), or opens this page where the agency has no connected number."""
    topic = _topic(agency_slug, topic_slug)
    with agency_scope(topic.agency):
        link = public.whatsapp_link(topic)
    target = link.url if link else request.build_absolute_uri(public.page_path(topic))
    return public.qr_response(target)
