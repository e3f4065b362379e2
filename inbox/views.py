"""The team inbox: the conversation list and one conversation's thread."""

from __future__ import annotations

from django.http import HttpResponse
from django.shortcuts import render

from frontend.decorators import agency_perm_required
from tenants.http import MemberRequest
from tenants.permissions import Perm


@agency_perm_required(Perm.VIEW_INBOX)
def conversations(request: MemberRequest) -> HttpResponse:
    return render(request, "inbox/conversations.html", {})


@agency_perm_required(Perm.VIEW_INBOX)
def conversation(request: MemberRequest, pk: int) -> HttpResponse:
    return render(request, "inbox/conversations.html", {})
