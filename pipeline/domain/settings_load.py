"""runner.toml + CLAUDE_RUNNER_* environment + --set flags -> one frozen Settings.

Precedence: built-in defaults < runner.toml < environment < flags. A bad value
stops start-up with a message that names the key.
"""

from __future__ import annotations

import os
import tomllib
from datetime import time
from pathlib import Path
from typing import Any

from pipeline.domain.settings import (
    ENV_PREFIX,
    HOOK_NAMES,
    KEYS,
    NOTIFY_EVENTS,
    PRESETS,
    Settings,
    SettingsError,
)

_POSITIVE = {"hook_timeout", "poll_interval", "default_timeout", "kill_grace", "history_limit",
             "high_watermark", "task_log_retention_days", "max_inbox_file_bytes",
             "max_prompt_bytes", "max_timeout", "notify_timeout", "heartbeat_every",
             "budget_per_hours", "verify_timeout", "backend_lease_seconds",
             "backend_renew_every", "backend_reap_every"}
_NON_NEGATIVE = {"max_retries", "retry_delay", "low_watermark", "usage_limit_margin",
                 "usage_limit_default_pause", "idle_timeout", "notify_retry_delay", "daily_usd",
                 "max_task_cost_usd", "budget_usd", "max_resumes", "backend_start_grace"}


def _coerce(key: str, kind: type, value: Any) -> Any:
    if kind is time:
        try:
            return time.fromisoformat(str(value))
        except ValueError:
            raise SettingsError(f"{key}: expected a time like \"00:05\", got {value!r}") from None
    if kind is float and isinstance(value, int | float) and not isinstance(value, bool):
        return float(value)
    if kind is list:
        if not isinstance(value, list) or not all(isinstance(v, str) for v in value):
            raise SettingsError(f"{key}: expected a list of strings, got {value!r}")
        return tuple(value)
    if kind is dict:
        if not isinstance(value, dict) or not all(isinstance(v, str) for v in value.values()):
            raise SettingsError(f"{key}: expected a table of strings, got {value!r}")
        return tuple(sorted(value.items()))
    if not isinstance(value, kind) or (kind is int and isinstance(value, bool)):
        raise SettingsError(f"{key}: expected {kind.__name__}, got {value!r}")
    return value


def _from_env_text(key: str, kind: type, text: str) -> Any:
    if kind is bool:
        if text.lower() not in {"1", "0", "true", "false", "yes", "no"}:
            raise SettingsError(f"{key}: expected true or false, got {text!r}")
        return text.lower() in {"1", "true", "yes"}
    if kind is list:
        return [part for part in text.split(",") if part]
    if kind is dict:
        raise SettingsError(f"{key}: cannot be set from the environment")
    if kind is time:
        return text  # parsed by _coerce
    try:
        return kind(text)
    except ValueError:
        raise SettingsError(f"{key}: expected {kind.__name__}, got {text!r}") from None


def _toml_values(path: Path) -> dict[str, Any]:
    if not path.exists():
        return {}
    try:
        data = tomllib.loads(path.read_text(encoding="utf-8"))
    except (tomllib.TOMLDecodeError, UnicodeDecodeError) as error:
        raise SettingsError(f"{path}: {error}") from None
    values: dict[str, Any] = {}
    for section, table in data.items():
        if not isinstance(table, dict):
            raise SettingsError(f"{path}: {section}: expected a [section]")
        for name, value in table.items():
            values[f"{section}.{name}"] = value
    return values


def _env_values(environ: dict[str, str]) -> dict[str, Any]:
    values: dict[str, Any] = {}
    for key, (_, kind) in KEYS.items():
        env_name = ENV_PREFIX + key.split(".", 1)[1].upper()
        if env_name in environ:
            values[key] = _from_env_text(env_name, kind, environ[env_name])
    return values


def _validate(settings: Settings) -> Settings:
    for name in _POSITIVE:
        if getattr(settings, name) <= 0:
            raise SettingsError(f"{name}: must be > 0")
    for name in _NON_NEGATIVE:
        if getattr(settings, name) < 0:
            raise SettingsError(f"{name}: must be >= 0")
    if settings.low_watermark >= settings.high_watermark:
        raise SettingsError("queue.low_watermark: must be below queue.high_watermark")
    if not 0 <= settings.web_port <= 65535:
        raise SettingsError("web.port: must be between 0 and 65535")
    if settings.agent_preset not in PRESETS:
        raise SettingsError(f"agent.preset: must be one of {', '.join(PRESETS)}")
    if settings.agent_preset == "custom" and not settings.agent_argv:
        raise SettingsError("agent.argv: the custom preset needs an argv template")
    if settings.default_timeout > settings.max_timeout:
        raise SettingsError("runner.default_timeout: must not exceed limits.timeout_ms")
    _check_continuation(settings.continuation_prompt)
    _validate_backend(settings)
    for root in settings.workspace_roots:
        if not os.path.isabs(root):
            raise SettingsError(f"security.workspace_roots: {root!r} is not an absolute path")
    if settings.heartbeat_url and not settings.heartbeat_url.startswith(("http://", "https://")):
        raise SettingsError("notify.heartbeat_url: must be an http:// or https:// URL")
    unknown = sorted(set(settings.notify_events) - set(NOTIFY_EVENTS))
    if unknown:
        raise SettingsError(f"notify.events: unknown {', '.join(unknown)}; "
                            f"use some of {', '.join(NOTIFY_EVENTS)}")
    return settings


def _check_continuation(template: str) -> None:
    try:
        template.format(reason="", prompt="", feedback="")
    except (KeyError, IndexError, ValueError) as error:
        raise SettingsError(f"runner.continuation_prompt: {error!r}; the placeholders are "
                            "{reason}, {prompt} and {feedback} ({{ and }} for braces)") from None


def _validate_backend(settings: Settings) -> None:
    if settings.backend_kind not in ("files", "postgres"):
        raise SettingsError('backend.kind: must be "files" or "postgres"')
    if settings.backend_kind == "postgres" and not settings.backend_dsn:
        raise SettingsError("backend.dsn: the postgres backend needs a dsn")
    if settings.backend_renew_every * 2 > settings.backend_lease_seconds:
        raise SettingsError("backend.renew_every: must be at most half of lease_seconds")


def _accounts(merged: dict[str, Any]) -> tuple[tuple[str, tuple[tuple[str, str], ...]], ...]:
    """[backend.accounts.NAME] KEY = "value": each account's agent environment."""
    table = merged.pop("backend.accounts", {})
    if not isinstance(table, dict) or not all(isinstance(v, dict) for v in table.values()):
        raise SettingsError("backend.accounts: expected [backend.accounts.NAME] tables")
    return tuple(sorted((name, _coerce(f"backend.accounts.{name}", dict, env))
                        for name, env in table.items()))


def _hooks(merged: dict[str, Any]) -> tuple[tuple[str, tuple[str, ...]], ...]:
    """[hooks] on_* = ["argv", "template", "{id}"]."""
    hooks = []
    for key, value in merged.items():
        if not key.startswith("hooks.on_"):
            continue
        name = key.split(".", 1)[1]
        if name not in HOOK_NAMES:
            raise SettingsError(f"{key}: unknown hook{_suggestion(key)} (hooks: "
                                f"{', '.join(HOOK_NAMES)})")
        hooks.append((name, _coerce(key, list, value)))
    return tuple(hooks)


def _suggestion(key: str) -> str:
    """"; did you mean queue.high_watermark?" for the closest known key, if any is close."""
    import difflib

    known = [*KEYS, *(f"hooks.{name}" for name in HOOK_NAMES)]
    close = difflib.get_close_matches(key, known, n=1, cutoff=0.6)
    if not close:  # the right name in the wrong [section]?
        close = [k for k in known if k.split(".", 1)[1] == key.split(".", 1)[-1]][:1]
    return f"; did you mean {close[0]}?" if close else ""


def parse_flag(text: str) -> tuple[str, Any]:
    """`--set section.key=value`: the value is read as TOML (`5`, `true`, `["a"]`),
    else taken as a plain string."""
    key, sep, raw = text.partition("=")
    if not sep or "." not in key:
        raise SettingsError(f"--set {text}: expected section.key=value")
    try:
        value = tomllib.loads(f"v = {raw}")["v"]
    except tomllib.TOMLDecodeError:
        value = raw
    return key.strip(), value


def load_settings(root: Path, environ: dict[str, str] | None = None,
                  flags: list[str] | None = None) -> Settings:
    """runner.toml at `root`, then the environment, then `--set` flags (later wins).
    Raises SettingsError naming the key."""
    merged = _toml_values(root / "runner.toml")
    merged.update(_env_values(dict(os.environ) if environ is None else environ))
    merged.update(parse_flag(flag) for flag in flags or [])
    kwargs: dict[str, Any] = {"hooks": _hooks(merged), "backend_accounts": _accounts(merged)}
    for key, value in merged.items():
        if key.startswith("hooks.on_"):
            continue
        if key not in KEYS:
            raise SettingsError(f"{key}: unknown setting{_suggestion(key)}")
        name, kind = KEYS[key]
        kwargs[name] = _coerce(key, kind, value)
    return _validate(Settings(**kwargs))

