"""A schedule: one entry of tasks/scheduled.json's `tasks` list, as a value.

The fields the runner reads are typed: the schedule's own (`cron`, `timezone`, `enabled`,
`jitterSeconds`, `catchUp`, `whenFull`, ...), the runner's notes (`lastRun`, `nextRun`,
`lastSkip`, `skipCount`, `deferredSlot`, `error`) and the task fields a schedule itself
reads (`prompt`, `name`, `workspace`, `priority`). Every other key - the rest of the task
fields its copies carry (`role`, `timeout`, `allowedTools`, ...) and anything unknown - rides
in `extra` untouched, as does a value that does not fit its field: `written(key)` still shows
it, so the checks can say what is wrong with it.

An entry that is not a JSON object is no schedule: `schedule_entries` gives None in its place
and the file keeps it exactly as it is.
"""

from __future__ import annotations

from collections.abc import Mapping
from dataclasses import dataclass, field
from typing import Any

from pipeline.domain import fields as f
from pipeline.domain.fields import key


class NotASchedule(ValueError):
    """A scheduled.json entry that is not an object."""


def is_enabled(value: Any) -> bool:  # noqa: ANN401 - any JSON value
    """`enabled`: missing/null means true; "false"/"no"/"off"/"0" strings mean false."""
    if value is None:
        return True
    if isinstance(value, str):
        return value.strip().lower() in ("true", "yes", "on", "1")
    return bool(value)


def _anything(_value: object) -> bool:
    return True


@dataclass(frozen=True, kw_only=True)  # no slots: see fields.make
class Schedule:
    id: str | None = key("id", f.is_str)
    name: str | None = key("name", f.is_str)
    cron: str | None = key("cron", f.is_str)
    prompt: str | None = key("prompt", f.is_str)
    workspace: str | None = key("workspace", f.is_str)
    enabled_as_written: Any = key("enabled", _anything)  # read through `enabled`
    timezone: str | None = key("timezone", f.is_str)
    last_run: str | None = key("lastRun", f.is_str)
    next_run: str | None = key("nextRun", f.is_str)
    last_skip: Mapping[str, Any] | None = key("lastSkip", f.is_mapping)
    error: str | None = key("error", f.is_str)
    skip_count: int | None = key("skipCount", f.is_count)
    jitter_seconds: float | None = key("jitterSeconds", f.is_number)
    catch_up: bool | None = key("catchUp", f.is_bool)
    catch_up_within: float | str | None = key("catchUpWithin",
                                              lambda v: f.is_number(v) or f.is_str(v))
    when_full: str | None = key("whenFull", f.one_of("skip", "defer"))
    deferred_slot: str | None = key("deferredSlot", f.is_str)
    late_after: float | None = key("lateAfter", f.is_number)
    priority: str | None = key("priority", f.is_str)
    extra: Mapping[str, Any] = field(default_factory=dict)

    @classmethod
    def from_dict(cls, raw: object) -> Schedule:
        """Raises NotASchedule when `raw` is not an object (any object is a schedule; the
        checks say what is wrong with it)."""
        if not isinstance(raw, dict):
            raise NotASchedule(f"not a schedule: {str(raw)[:80]}")
        return f.build(cls, raw)

    def to_dict(self) -> dict[str, Any]:
        return f.dump_with(self, self.extra)

    # ----- what the fields mean ---------------------------------------------------------
    @property
    def enabled(self) -> bool:
        return is_enabled(self.enabled_as_written)

    @property
    def label(self) -> str:
        """The id as text ("" when there is none), also when it is not a string."""
        value = self.written("id")
        return "" if value is None else str(value)

    @property
    def skips(self) -> int:
        return self.skip_count or 0

    def written(self, name: str) -> Any:  # noqa: ANN401 - any JSON value
        """The value the file holds under `name` (None when absent), fitting or not."""
        if name in self.extra:
            return self.extra[name]
        spec = f.specs(Schedule).get(name)
        return getattr(self, spec.attr) if spec else None

    def unfit(self, name: str) -> bool:
        """The file holds `name`, but as null or a value that does not fit its field."""
        return name in self.extra and name in f.specs(Schedule)


def schedule_entries(items: list[Any]) -> list[Schedule | None]:
    """scheduled.json's `tasks` list, position by position: None where an entry is not a
    schedule (it stays in the file exactly as it is)."""
    return [Schedule.from_dict(item) if isinstance(item, dict) else None for item in items]


def schedules_in(items: list[Any]) -> list[Schedule]:
    """The entries that are schedules, in order."""
    return list(f.parsed(Schedule.from_dict, items))
