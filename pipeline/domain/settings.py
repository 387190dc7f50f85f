"""runner.toml + CLAUDE_RUNNER_* environment + --set flags -> one frozen Settings.

Precedence: built-in defaults < runner.toml < environment < flags. A bad value
stops start-up with a message that names the key.
"""

from __future__ import annotations

import os
import tomllib
from dataclasses import dataclass
from datetime import time
from pathlib import Path
from typing import Any

ENV_PREFIX = "CLAUDE_RUNNER_"


# The prompt of a resumed attempt ({reason}: why the last one ended; {prompt}: the task's
# own prompt; {feedback}: what the runner found wrong, e.g. a failed verify's output).
DEFAULT_CONTINUATION = (
    "Your previous run of this task was interrupted ({reason}) before it finished. Continue "
    "the original task from where you left off: do not redo work that is already done, and "
    "check the state of the workspace first.{feedback}\n\nThe original task was:\n\n{prompt}"
)


class SettingsError(Exception):
    pass


@dataclass(frozen=True)
class Settings:
    poll_interval: float = 10.0
    default_timeout: int = 600_000
    max_retries: int = 2
    retry_delay: float = 30.0
    kill_grace: float = 10.0
    history_limit: int = 1000
    task_log_retention_days: int = 30
    high_watermark: int = 10
    low_watermark: int = 5
    agent_preset: str = "claude"
    agent_command: str = ""          # "" = the preset's executable
    agent_argv: tuple[str, ...] = ()  # the custom preset's template
    agent_extra_args: tuple[str, ...] = ()
    agent_env_passthrough: tuple[str, ...] | None = None
    agent_stream: bool = True
    idle_timeout: float = 900.0
    agent_env: tuple[tuple[str, str], ...] = ()
    agent_sandboxed: bool = False
    workspace_roots: tuple[str, ...] = ()
    allow_auto_approve: bool = True
    fail_on_permission_denials: bool = True
    daily_report_at: time = time(0, 5)  # local time after which yesterday's report is written
    hooks: tuple[tuple[str, tuple[str, ...]], ...] = ()
    hook_timeout: float = 30.0
    usage_limit_margin: float = 60.0
    usage_limit_default_pause: float = 3600.0
    web_host: str = "127.0.0.1"
    web_port: int = 8765
    max_inbox_file_bytes: int = 1_048_576   # an inbox file above this is rejected unread
    max_prompt_bytes: int = 262_144         # UTF-8 bytes of one task's prompt
    max_timeout: int = 604_800_000          # ms (7 days): a task's `timeout` above it is refused
    notify_urls: tuple[str, ...] = ()
    notify_events: tuple[str, ...] = ()  # () = every notifiable event
    notify_timeout: float = 10.0
    notify_retry_delay: float = 5.0
    heartbeat_url: str = ""
    heartbeat_every: float = 60.0
    daily_usd: float = 0.0            # 0 = no daily budget
    priority_bypass: bool = False
    max_task_cost_usd: float = 0.0    # 0 = no per-task cap (the task field overrides)
    budget_usd: float = 0.0           # a rolling window's cap; 0 = none
    budget_per_hours: float = 5.0
    resume: bool = True
    max_resumes: int = 3
    resume_on_timeout: bool = False
    continuation_prompt: str = DEFAULT_CONTINUATION
    verify_timeout: float = 600.0
    fallback_model: str = ""        # a model-class usage limit: "" = wait, else run on this model
    backend_kind: str = "files"      # "files" or "postgres" (pipeline/postgres)
    backend_dsn: str = ""
    backend_lease_seconds: float = 60.0
    backend_renew_every: float = 10.0
    backend_start_grace: float = 30.0
    backend_reap_every: int = 5       # seconds between the head's reaper runs
    backend_accounts: tuple[tuple[str, tuple[tuple[str, str], ...]], ...] = ()

    @property
    def heartbeat_max_age(self) -> float:
        return max(3 * self.poll_interval, 30.0)


# toml section.key -> (Settings field, type)
_KEYS: dict[str, tuple[str, type]] = {
    "runner.poll_interval": ("poll_interval", float),
    "runner.default_timeout": ("default_timeout", int),
    "runner.max_retries": ("max_retries", int),
    "runner.retry_delay": ("retry_delay", float),
    "runner.kill_grace": ("kill_grace", float),
    "runner.history_limit": ("history_limit", int),
    "runner.task_log_retention_days": ("task_log_retention_days", int),
    "runner.usage_limit_margin": ("usage_limit_margin", float),
    "runner.usage_limit_default_pause": ("usage_limit_default_pause", float),
    "queue.high_watermark": ("high_watermark", int),
    "queue.low_watermark": ("low_watermark", int),
    "agent.preset": ("agent_preset", str),
    "agent.command": ("agent_command", str),
    "agent.argv": ("agent_argv", list),
    "agent.env_passthrough": ("agent_env_passthrough", list),
    "agent.stream": ("agent_stream", bool),
    "runner.idle_timeout": ("idle_timeout", float),
    "runner.daily_report_at": ("daily_report_at", time),
    "agent.extra_args": ("agent_extra_args", list),
    "agent.env": ("agent_env", dict),
    "agent.sandboxed": ("agent_sandboxed", bool),
    "agent.fail_on_permission_denials": ("fail_on_permission_denials", bool),
    "security.workspace_roots": ("workspace_roots", list),
    "hooks.timeout": ("hook_timeout", float),
    "security.allow_auto_approve": ("allow_auto_approve", bool),
    "web.host": ("web_host", str),
    "web.port": ("web_port", int),
    "limits.inbox_file_bytes": ("max_inbox_file_bytes", int),
    "limits.prompt_bytes": ("max_prompt_bytes", int),
    "limits.timeout_ms": ("max_timeout", int),
    "notify.urls": ("notify_urls", list),
    "notify.events": ("notify_events", list),
    "notify.timeout": ("notify_timeout", float),
    "notify.retry_delay": ("notify_retry_delay", float),
    "notify.heartbeat_url": ("heartbeat_url", str),
    "notify.heartbeat_every": ("heartbeat_every", float),
    "budget.daily_usd": ("daily_usd", float),
    "budget.priority_bypass": ("priority_bypass", bool),
    "budget.max_task_cost_usd": ("max_task_cost_usd", float),
    "budget.usd": ("budget_usd", float),
    "budget.per_hours": ("budget_per_hours", float),
    "runner.resume": ("resume", bool),
    "runner.max_resumes": ("max_resumes", int),
    "runner.resume_on_timeout": ("resume_on_timeout", bool),
    "runner.continuation_prompt": ("continuation_prompt", str),
    "runner.verify_timeout": ("verify_timeout", float),
    "runner.fallback_model": ("fallback_model", str),
    "backend.kind": ("backend_kind", str),
    "backend.dsn": ("backend_dsn", str),
    "backend.lease_seconds": ("backend_lease_seconds", float),
    "backend.renew_every": ("backend_renew_every", float),
    "backend.start_grace": ("backend_start_grace", float),
    "backend.reap_every": ("backend_reap_every", int),
}
HOOK_NAMES = ("on_level_change", "on_task_done", "on_task_failed", "on_pause",
              "on_task_cancelled")
_POSITIVE = {"hook_timeout", "poll_interval", "default_timeout", "kill_grace", "history_limit",
             "high_watermark", "task_log_retention_days", "max_inbox_file_bytes",
             "max_prompt_bytes", "max_timeout", "notify_timeout", "heartbeat_every",
             "budget_per_hours", "verify_timeout", "backend_lease_seconds",
             "backend_renew_every", "backend_reap_every"}
_NON_NEGATIVE = {"max_retries", "retry_delay", "low_watermark", "usage_limit_margin",
                 "usage_limit_default_pause", "idle_timeout", "notify_retry_delay", "daily_usd",
                 "max_task_cost_usd", "budget_usd", "max_resumes", "backend_start_grace"}
PRESETS = ("claude", "qoder", "codex", "gemini", "custom")
NOTIFY_EVENTS = ("task_failed", "pause_start", "pause_end", "queue_full", "queue_recovered",
                 "budget_reached", "budget_reset", "daemon_crash", "schedule_late",
                 "report_ready")


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
    for key, (_, kind) in _KEYS.items():
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

    known = [*_KEYS, *(f"hooks.{name}" for name in HOOK_NAMES)]
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
        if key not in _KEYS:
            raise SettingsError(f"{key}: unknown setting{_suggestion(key)}")
        name, kind = _KEYS[key]
        kwargs[name] = _coerce(key, kind, value)
    return _validate(Settings(**kwargs))


def resolve_root(flag: str | None, environ: dict[str, str] | None = None) -> Path:
    env = os.environ if environ is None else environ
    chosen = flag or env.get("CLAUDE_RUNNER_ROOT") or os.getcwd()
    return Path(chosen).expanduser().resolve()
