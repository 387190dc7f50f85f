"""`doctor` with the postgres backend: the extra installed, the database reachable,
its schema complete and made by the procrastinate series this code was checked with."""

from __future__ import annotations

from pipeline.doctor.checks import Check
from pipeline.domain.settings import Settings

NAME = "postgres backend"


def check_backend(settings: Settings) -> Check:
    try:
        from pipeline.postgres import db, schema
    except ImportError:
        return Check(NAME, False, "psycopg / procrastinate are not installed",
                     "pip install 'claude-runner[postgres]'")
    try:
        import procrastinate  # noqa: F401
        import psycopg  # noqa: F401
    except ImportError as error:
        return Check(NAME, False, f"{error.name} is not installed",
                     "pip install 'claude-runner[postgres]'")
    installed = schema.installed_procrastinate()
    if not installed.startswith(schema.PROCRASTINATE_SERIES + "."):
        return Check(NAME, False, f"procrastinate {installed} is installed; this code was "
                     f"checked with {schema.PROCRASTINATE_SERIES}.x",
                     f"pip install 'procrastinate=={schema.PROCRASTINATE_SERIES}.*'")
    try:
        with db.connect(settings.backend_dsn, "claude-runner-doctor") as conn:
            problems = schema.problems(conn)
    except Exception as error:  # noqa: BLE001 - reported, not raised
        return Check(NAME, False, f"cannot connect: {str(error).strip()[:200]}",
                     "check [backend] dsn and that PostgreSQL runs (scripts/postgres.sh)")
    if problems:
        return Check(NAME, False, "; ".join(problems),
                     "start the head once (`claude-runner run`): it creates the schema")
    return Check(NAME, True, f"schema complete (procrastinate {installed})")
