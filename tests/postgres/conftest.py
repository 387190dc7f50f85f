"""The postgres backend's tests run against a real PostgreSQL: a private cluster the
session starts itself (Debian's `postgresql` package), or $CLAUDE_RUNNER_TEST_DSN.
Each test gets a fresh database."""

from __future__ import annotations

import itertools
import os

import pytest

pytest.importorskip("psycopg", reason="the postgres extra is not installed "
                    "(pip install -e '.[postgres]')")
pytest.importorskip("procrastinate", reason="the postgres extra is not installed")

from pgcluster import Cluster, find_bindir  # noqa: E402

_numbers = itertools.count(1)


@pytest.fixture(scope="session")
def pg_server():
    """(cluster or None, admin dsn)."""
    given = os.environ.get("CLAUDE_RUNNER_TEST_DSN")
    if given:
        yield None, given
        return
    bindir = find_bindir()
    if bindir is None:
        pytest.skip("no PostgreSQL binaries (apt-get install postgresql) and no "
                    "$CLAUDE_RUNNER_TEST_DSN")
    cluster = Cluster(bindir)
    cluster.init()
    cluster.start()
    try:
        yield cluster, cluster.dsn()
    finally:
        try:
            cluster.stop("immediate")
        finally:
            cluster.remove()


@pytest.fixture
def pg_dsn(pg_server) -> str:
    """A fresh, empty database for this test."""
    import psycopg
    from psycopg.conninfo import make_conninfo

    _, admin = pg_server
    name = f"cr_test_{os.getpid()}_{next(_numbers)}"
    with psycopg.connect(admin, autocommit=True) as conn:
        conn.execute(f'CREATE DATABASE "{name}"')
    return make_conninfo(admin, dbname=name)


@pytest.fixture
def pg_cluster(pg_server) -> Cluster:
    cluster, _ = pg_server
    if cluster is None:
        pytest.skip("needs the tests' own cluster (restarts it)")
    return cluster
