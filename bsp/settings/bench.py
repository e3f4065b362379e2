"""Benchmark settings: production-like (DEBUG off, JSON logs at WARNING), local services."""

from __future__ import annotations

from .test import *

LOG_LEVEL = "WARNING"
LOGGING["root"]["level"] = "WARNING"
PASSWORD_HASHERS = ["django.contrib.auth.hashers.PBKDF2PasswordHasher"]
ROOT_URLCONF = "bsp.bench_urls"
