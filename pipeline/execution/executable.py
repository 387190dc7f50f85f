"""Is the agent's executable there? Checked when the daemon starts (a warning in the log
and in `status`) and when a start fails: "not found" is final and says how to fix it,
instead of burning every retry on `[Errno 2]`."""

from __future__ import annotations

import shutil

from pipeline.agent.presets import executable
from pipeline.agent.verdict import Verdict
from pipeline.domain.outcome import Outcome
from pipeline.domain.settings import Settings

HINT = ("install it (npm install -g @anthropic-ai/claude-code) or set [agent] command in "
        "runner.toml to its full path; `claude-runner doctor` checks it")


def program(settings: Settings) -> str:
    """The executable the runner starts (the custom preset's is its argv's first word)."""
    name = executable(settings)
    return name or (settings.agent_argv[0] if settings.agent_argv else "")


def missing(settings: Settings, env: dict[str, str]) -> str | None:
    """The problem when the agent's executable cannot be found with the agent's PATH."""
    name = program(settings)
    if name and shutil.which(name, path=env.get("PATH")):
        return None
    return not_found(name)


def not_found(name: str) -> str:
    return f"agent executable not found: {name!r} is not on the agent's PATH; {HINT}"


def start_failure(error: Exception, program: str) -> Verdict:
    """A missing executable is final (a retry finds it missing too); another OSError (a
    full disk, say) may pass on a retry; any other error is final."""
    if isinstance(error, FileNotFoundError) and error.filename in (program, None):
        return Verdict(Outcome.ERROR, not_found(program))
    why = f"cannot start the agent: {type(error).__name__}: {error}"
    return Verdict(Outcome.ERROR, why, retryable=isinstance(error, OSError))
