"""Number formatting shared by the Markdown report and its chart."""

from __future__ import annotations

from typing import Any

DASH = "–"


def span(seconds: float | None) -> str:
    """A length of time as "45s", "12.5s", "3m 05s" or "2h 10m"."""
    if seconds is None:
        return DASH
    value = abs(seconds)
    if value < 60:
        text = f"{value:.1f}".removesuffix(".0") + "s"
    elif value < 3600:
        text = f"{int(value // 60)}m {int(value % 60):02d}s"
    else:
        text = f"{int(value // 3600)}h {int(value % 3600 // 60):02d}m"
    return f"-{text}" if seconds < 0 else text


def usd(value: float | None) -> str:
    """Dollars with at least two and at most four decimals: $2.55, $0.0123."""
    if value is None:
        return DASH
    text = f"{abs(value):.4f}".rstrip("0")
    whole, _, cents = text.partition(".")
    text = f"${whole}.{cents.ljust(2, '0')}"
    return f"-{text}" if value < 0 else text


def number(value: float | None) -> str:
    if value is None:
        return DASH
    if float(value).is_integer():
        return str(int(value))
    return f"{value:.2f}"


def percent(value: float | None) -> str:
    return DASH if value is None else f"{value:.2f} %"


def rate(value: float | None) -> str:
    """A 0..1 fraction as a percentage."""
    return DASH if value is None else f"{100 * value:.2f} %"


# How each summary figure is shown: kind -> (value formatter, delta formatter).
def _signed(text: str, value: float) -> str:
    return text if text.startswith("-") or value == 0 else f"+{text}"


def value_of(kind: str, value: Any) -> str:
    formatter = {"percent": percent, "rate": rate, "seconds": span, "usd": usd,
                 "ms": lambda v: span(None if v is None else v / 1000)}.get(kind, number)
    return formatter(value)


def delta_of(kind: str, value: Any) -> str:
    if value is None:
        return DASH
    if kind == "percent":
        return _signed(f"{value:.2f} pt", value)
    if kind == "rate":
        return _signed(f"{100 * value:.2f} pt", value)
    return _signed(value_of(kind, value), value)


def cell(text: Any) -> str:
    """Safe inside a Markdown table cell: one line, pipes escaped."""
    return " ".join(str(text).split()).replace("|", "\\|")


def when(iso_text: str | None) -> str:
    """'2026-03-10T09:15:00.000+02:00' -> '2026-03-10 09:15:00'."""
    return DASH if not iso_text else f"{iso_text[:10]} {iso_text[11:19]}"
