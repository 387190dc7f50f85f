"""Notification and heartbeat URLs carry secrets (tokens, topics, webhook paths):
only their scheme and a short fingerprint ever reach a log line or `status`."""

from __future__ import annotations

import hashlib


def mask(url: str) -> str:
    """`slack://T0/B1/xyz` -> `slack://…3f9a1c`: which target, never its secret."""
    scheme, sep, _rest = url.partition("://")
    fingerprint = hashlib.sha256(url.encode("utf-8")).hexdigest()[:6]
    return f"{scheme}://…{fingerprint}" if sep else f"…{fingerprint}"

