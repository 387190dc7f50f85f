#!/usr/bin/env bash
# A private PostgreSQL for the postgres backend, on 127.0.0.1 only (trust authentication:
# for one machine; several machines need a server with passwords - see the README).
#
#   scripts/postgres.sh start   initdb (once) + start, create the database, print the DSN
#   scripts/postgres.sh stop
#   scripts/postgres.sh dsn     print the DSN for runner.toml's [backend] dsn
#
# Needs Debian's `postgresql` package (apt-get install postgresql). Data in
# $CLAUDE_RUNNER_PG_DIR (default ~/.claude-runner/postgres; as root
# /var/lib/claude-runner/postgres), port $CLAUDE_RUNNER_PG_PORT
# (default 54329). As root, the server runs as the `postgres` user.
set -euo pipefail

if [ "$(id -u)" = 0 ]; then DEFAULT_DIR=/var/lib/claude-runner/postgres  # reachable by `postgres`
else DEFAULT_DIR="$HOME/.claude-runner/postgres"; fi
DIR="${CLAUDE_RUNNER_PG_DIR:-$DEFAULT_DIR}"
PORT="${CLAUDE_RUNNER_PG_PORT:-54329}"
DB="claude_runner"
BIN="$(ls -d /usr/lib/postgresql/*/bin 2>/dev/null | sort -V | tail -n 1 || true)"
if [ -z "$BIN" ] || [ ! -x "$BIN/initdb" ]; then
  command -v initdb >/dev/null || { echo "initdb not found: apt-get install postgresql" >&2; exit 1; }
  BIN="$(dirname "$(command -v initdb)")"
fi

as_server() {
  if [ "$(id -u)" = 0 ]; then runuser -u postgres -- "$@"; else "$@"; fi
}

dsn() { echo "postgresql://postgres@127.0.0.1:$PORT/$DB"; }

start() {
  mkdir -p "$DIR"
  if [ "$(id -u)" = 0 ]; then chown postgres: "$DIR"; fi
  if [ ! -f "$DIR/data/PG_VERSION" ]; then
    as_server "$BIN/initdb" -D "$DIR/data" -U postgres --auth=trust -E UTF8 >/dev/null
  fi
  if ! as_server "$BIN/pg_ctl" -D "$DIR/data" status >/dev/null 2>&1; then
    as_server "$BIN/pg_ctl" -D "$DIR/data" -l "$DIR/server.log" -w \
      -o "-p $PORT -k $DIR -c listen_addresses=127.0.0.1" start >/dev/null
  fi
  if ! as_server "$BIN/psql" -h 127.0.0.1 -p "$PORT" -U postgres -tAc \
      "SELECT 1 FROM pg_database WHERE datname = '$DB'" | grep -q 1; then
    as_server "$BIN/createdb" -h 127.0.0.1 -p "$PORT" -U postgres "$DB"
  fi
  dsn
}

case "${1:-}" in
  start) start ;;
  stop) as_server "$BIN/pg_ctl" -D "$DIR/data" -m fast -w stop ;;
  dsn) dsn ;;
  *) echo "usage: $0 start|stop|dsn" >&2; exit 2 ;;
esac
