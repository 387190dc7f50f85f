"""The connection string, with the timeouts a 24/7 process needs (pure).

A connection to a host that vanished can hang for the kernel's TCP timeout
(hours); libpq's keepalives and `tcp_user_timeout` end it within seconds, and
`connect_timeout` bounds a connect. Values the user set in the DSN win.
"""

from __future__ import annotations

DEFAULTS = {
    "connect_timeout": "5",
    "keepalives": "1",
    "keepalives_idle": "10",
    "keepalives_interval": "5",
    "keepalives_count": "3",
    "tcp_user_timeout": "20000",
    "application_name": "claude-runner",
}


def with_timeouts(dsn: str, application_name: str | None = None) -> str:
    """`dsn` (URL or key=value form) plus the defaults it does not set."""
    from psycopg.conninfo import conninfo_to_dict, make_conninfo

    given = conninfo_to_dict(dsn)
    extra = {k: v for k, v in DEFAULTS.items() if k not in given}
    if application_name and "application_name" not in given:
        extra["application_name"] = application_name
    return make_conninfo(dsn, **extra)
