"""Target URLs: https in production, and never an address inside our network (SSRF) unless
a setting allows it; checked when saved and again, against rebinding, at delivery."""

from __future__ import annotations

import pytest

from bsp.events import types
from bsp.integrations import urlsafety
from bsp.integrations.models import Delivery
from tests.integrations.conftest import flow, publish


@pytest.fixture
def production(settings):
    settings.WEBHOOK_ALLOW_HTTP = False
    settings.WEBHOOK_ALLOWED_NETWORKS = []


@pytest.fixture
def dns(monkeypatch):
    """A resolver that answers from a table (a hostile DNS server can answer anything)."""
    table: dict[str, list[str]] = {}
    monkeypatch.setattr(urlsafety, "resolver", lambda host, port: table[host])
    return table


def test_a_public_https_url_is_accepted(production, dns):
    dns["hooks.example.gov"] = ["93.184.216.34"]
    target = urlsafety.check("https://hooks.example.gov/in?x=1")
    assert target.connect_url() == "https://93.184.216.34:443/in?x=1"
    assert target.host_header() == "hooks.example.gov"


def test_plain_http_is_refused_in_production(production, dns):
    dns["hooks.example.gov"] = ["93.184.216.34"]
    with pytest.raises(urlsafety.UnsafeURL, match="https"):
        urlsafety.check("http://hooks.example.gov/")


@pytest.mark.parametrize(
    "url",
    [
        "https://127.0.0.1/",
        "https://10.1.2.3/",
        "https://172.16.0.1/",
        "https://192.168.1.1/",
        "https://169.254.169.254/latest/meta-data/",
        "https://100.64.0.1/",
        "https://0.0.0.0/",
        "https://224.0.0.1/",
        "https://240.0.0.1/",
        "https://[::1]/",
        "https://[fe80::1]/",
        "https://[fc00::1]/",
        "https://[::ffff:127.0.0.1]/",
        "https://[ff02::1]/",
    ],
)
def test_a_non_public_address_is_refused(production, url):
    with pytest.raises(urlsafety.UnsafeURL, match="public address"):
        urlsafety.check(url)


@pytest.mark.parametrize(
    "url",
    ["https://2130706433/", "https://0177.0.0.1/", "https://0x7f.0.0.1/", "https://127.1/"],
)
def test_decimal_octal_hex_and_short_ip_forms_are_refused(production, url):
    with pytest.raises(urlsafety.UnsafeURL, match="dotted form"):
        urlsafety.check(url)


def test_localhost_is_refused(production):
    with pytest.raises(urlsafety.UnsafeURL, match="public address"):
        urlsafety.check("https://localhost/")


def test_a_name_with_any_private_address_is_refused(production, dns):
    dns["mixed.example.gov"] = ["93.184.216.34", "10.0.0.5"]
    with pytest.raises(urlsafety.UnsafeURL, match=r"10\.0\.0\.5"):
        urlsafety.check("https://mixed.example.gov/")


@pytest.mark.parametrize(
    "url",
    [
        "https://user:pw@hooks.example.gov/",
        "ftp://hooks.example.gov/",
        "https:///nohost",
        "https://hooks.example.gov:99999/",
        "https://hooks.example.gov/a b",
        "javascript:alert(1)",
        "",
    ],
)
def test_malformed_urls_are_refused(production, dns, url):
    dns["hooks.example.gov"] = ["93.184.216.34"]
    with pytest.raises(urlsafety.UnsafeURL):
        urlsafety.check(url)


def test_an_unresolvable_name_is_refused(production):
    with pytest.raises(urlsafety.UnsafeURL, match="resolved"):
        urlsafety.check("https://nowhere.invalid/")


def test_an_allowed_network_lets_the_demo_use_loopback(settings):
    settings.WEBHOOK_ALLOWED_NETWORKS = ["127.0.0.1/32"]
    assert str(urlsafety.check("http://127.0.0.1:8000/x").address) == "127.0.0.1"


@pytest.mark.django_db(transaction=True)
def test_a_name_rebound_to_a_private_address_after_saving_is_not_contacted(
    agency_a, subscribe, receiver, dns, settings
):
    port = receiver.url.split(":")[2].split("/")[0]
    dns["hooks.example.gov"] = ["127.0.0.1"]  # allowed (the tests' network) when saved
    sub, _ = subscribe(f"http://hooks.example.gov:{port}/hooks", ["consent.changed"])
    settings.WEBHOOK_ALLOWED_NETWORKS = []
    dns["hooks.example.gov"] = ["10.0.0.7"]  # rebound
    publish(agency_a, types.CONSENT_CHANGED, {"contact": 1}, {"status": "opted_in"})
    flow(agency_a, sub)

    assert receiver.received == []
    from tenants.scoping import agency_scope

    with agency_scope(agency_a):
        (row,) = Delivery.objects.all()
    assert row.status == Delivery.Status.PENDING
    assert "public address" in row.last_error


@pytest.mark.django_db(transaction=True)
def test_the_sender_connects_to_the_checked_address_with_the_name_as_host(
    agency_a, subscribe, receiver, dns
):
    port = receiver.url.split(":")[2].split("/")[0]
    dns["hooks.example.gov"] = ["127.0.0.1"]
    sub, _ = subscribe(f"http://hooks.example.gov:{port}/hooks", ["consent.changed"])
    publish(agency_a, types.CONSENT_CHANGED, {"contact": 1}, {"status": "opted_in"})
    flow(agency_a, sub)

    (hit,) = receiver.received
    assert hit.headers["Host"] == f"hooks.example.gov:{port}"
