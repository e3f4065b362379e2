"""Simulator configuration: plain dataclasses loaded from YAML/JSON and patchable at runtime.

Defaults aim at a realistic demo (statuses after ~1 s, reads after a few seconds). Tests pass
a faster config; see tests/simulator_fixture.py.
"""

from __future__ import annotations

import dataclasses
import json
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any

import yaml


@dataclass
class WebhookConfig:
    # Delays (seconds) from acceptance to each status; jitter adds up to +jitter*delay.
    sent_delay: float = 0.3
    delivered_delay: float = 1.0
    read_delay: float = 3.0
    jitter: float = 0.5
    read_probability: float = 0.8
    # Batching: wait this long after the first queued event, then send up to batch_max.
    batch_window: float = 0.05
    batch_max: int = 20
    # Parallel POSTs per callback URL. Events of one message always share a lane, so
    # sent -> delivered -> read keep their order unless out-of-order mode says otherwise.
    lanes: int = 4
    duplicate_fraction: float = 0.0  # fraction of events delivered twice
    out_of_order_fraction: float = 0.0  # fraction of messages whose statuses come reversed
    failed_after_sent_fraction: float = 0.0  # sent, then failed with 131000
    # Retries of non-200 answers: base * factor^n, capped; Meta keeps trying for 7 days,
    # compressed here to max_attempts.
    retry_base: float = 1.0
    retry_factor: float = 2.0
    retry_max_delay: float = 60.0
    max_attempts: int = 12
    timeout: float = 5.0
    log_size: int = 5000  # deliveries kept for /_sim/webhooks


@dataclass
class FaultConfig:
    error_5xx_fraction: float = 0.0
    slow_fraction: float = 0.0
    slow_seconds: float = 20.0
    undeliverable_fraction: float = 0.0


@dataclass
class LimitConfig:
    throughput_mps: float = 80.0  # per phone number unless the number overrides it
    pair_burst: int = 45  # messages to one user allowed in a burst...
    pair_interval: float = 6.0  # ...refilled at one per this many seconds
    window_seconds: float = 24 * 3600
    enforce_window: bool = True
    max_templates_per_waba: int = 250
    media_url_ttl: float = 300.0


@dataclass
class TemplateReviewConfig:
    auto: bool = True
    delay: float = 2.0
    # Names or body texts containing any of these (case-insensitive) are rejected.
    reject_if_contains: list[str] = field(default_factory=lambda: ["reject", "lottery"])
    reject_reason: str = "INVALID_FORMAT"


@dataclass
class SimConfig:
    seed: int | None = None
    public_url: str | None = None  # base of media URLs; defaults to the request's host
    # A well-known default for local demos only; the control API sets per-number secrets.
    default_app_secret: str = "simulator-app-secret"  # noqa: S105
    # Meta may silently ignore unknown fields; refusing them surfaces client bugs.
    strict_fields: bool = True
    not_on_whatsapp: list[str] = field(default_factory=list)
    phone_numbers: list[dict[str, Any]] = field(default_factory=list)
    templates: list[dict[str, Any]] = field(default_factory=list)
    webhooks: WebhookConfig = field(default_factory=WebhookConfig)
    faults: FaultConfig = field(default_factory=FaultConfig)
    limits: LimitConfig = field(default_factory=LimitConfig)
    template_review: TemplateReviewConfig = field(default_factory=TemplateReviewConfig)


def apply_overrides(target: Any, data: dict[str, Any], path: str = "") -> None:
    """Recursively set dataclass fields from a dict; unknown keys are an error."""
    names = {f.name: f for f in dataclasses.fields(target)}
    for key, value in data.items():
        if key not in names:
            raise ValueError(f"unknown config key {path}{key}")
        current = getattr(target, key)
        if dataclasses.is_dataclass(current) and isinstance(value, dict):
            apply_overrides(current, value, f"{path}{key}.")
        else:
            setattr(target, key, value)


def config_from_dict(data: dict[str, Any] | None) -> SimConfig:
    config = SimConfig()
    apply_overrides(config, data or {})
    return config


def load_config(path: str | Path) -> SimConfig:
    text = Path(path).read_text()
    data = json.loads(text) if str(path).endswith(".json") else yaml.safe_load(text)
    return config_from_dict(data or {})


def config_to_dict(config: SimConfig) -> dict[str, Any]:
    return dataclasses.asdict(config)
