"""Notification and heartbeat URLs carry secrets (tokens, topics, webhook paths):
only their scheme and a short fingerprint ever reach a log line or `status`."""

from __future__ import annotations

import hashlib


def mask(url: str) -> str:
    """`slack://T0/B1/xyz` -> `slack://…3f9a1c`: which target, never its secret."""
    scheme, sep, _rest = url.partition("://")
    fingerprint = hashlib.sha256(url.encode("utf-8")).hexdigest()[:6]
    return f"{scheme}://…{fingerprint}" if sep else f"…{fingerprint}"


def scrub(text: str, urls: tuple[str, ...] | list[str]) -> str:
    """`text` with every given URL (and its part after the scheme) masked."""
    for url in sorted(urls, key=len, reverse=True):
        if url:
            text = text.replace(url, mask(url))
            rest = url.partition("://")[2]
            if len(rest) >= 4:
                text = text.replace(rest, "…")
    return text
