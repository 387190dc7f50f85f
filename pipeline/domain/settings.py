"""Settings: one frozen value with every knob and its default, and the table of the keys
runner.toml, CLAUDE_RUNNER_* and --set flags may set (read by `settings_load`)."""

from __future__ import annotations

from dataclasses import dataclass
from datetime import time

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
KEYS: dict[str, tuple[str, type]] = {
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
PRESETS = ("claude", "qoder", "codex", "gemini", "custom")
NOTIFY_EVENTS = ("task_failed", "pause_start", "pause_end", "queue_full", "queue_recovered",
                 "budget_reached", "budget_reset", "daemon_crash", "schedule_late",
                 "report_ready")
