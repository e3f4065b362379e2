"""The foia pages, under ``/records/requests/``; namespace ``records_foia``."""

from __future__ import annotations

from django.urls import URLPattern, path

from records.foia import views

app_name = "records_foia"

urlpatterns: list[URLPattern] = [
    path("", views.request_list, name="list"),
    path("new/", views.create, name="create"),
    path("rules/", views.rules, name="rules"),
    path("rules/examples/", views.add_examples, name="add_examples"),
    path("rules/jurisdictions/", views.add_jurisdiction, name="add_jurisdiction"),
    path("rules/jurisdictions/<int:pk>/codes/", views.add_code, name="add_code"),
    path("rules/holidays/", views.add_holiday, name="add_holiday"),
    path("rules/holidays/federal/", views.add_federal_holidays, name="add_federal_holidays"),
    path("rules/holidays/<int:pk>/remove/", views.remove_holiday, name="remove_holiday"),
    path("assets/<str:name>", views.asset, name="asset"),
    path("<int:pk>/", views.detail, name="detail"),
    path("<int:pk>/extend/", views.extend, name="extend"),
    path("<int:pk>/toll/", views.toll, name="toll"),
    path("<int:pk>/resume/", views.resume, name="resume"),
    path("<int:pk>/status/", views.change_status, name="status"),
    path("<int:pk>/search/", views.search, name="search"),
    path("<int:pk>/review/", views.decide, name="decide"),
    path("<int:pk>/redact-phrase/", views.redact_phrase, name="redact_phrase"),
    path("<int:pk>/produce/", views.produce, name="produce"),
    path("<int:pk>/productions/<int:production>/", views.download, name="download"),
    path("<int:pk>/items/<int:item>/", views.item, name="item"),
    path("<int:pk>/items/<int:item>/redact/", views.redact_span, name="redact_span"),
    path("<int:pk>/items/<int:item>/decide/", views.decide_item, name="decide_item"),
    path("<int:pk>/items/<int:item>/redact-words/", views.redact_words, name="redact_words"),
    path("<int:pk>/items/<int:item>/withhold-file/", views.withhold_media, name="withhold_media"),
    path(
        "<int:pk>/redactions/<int:redaction>/remove/",
        views.remove_redaction,
        name="remove_redaction",
    ),
]
