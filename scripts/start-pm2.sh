#!/usr/bin/env bash
# Start (or restart) claude-runner under PM2 on Linux/macOS. Safe to run again.
#   CLAUDE_RUNNER_ROOT=/path/to/state scripts/start-pm2.sh   (default root: this checkout)
set -euo pipefail
cd "$(dirname "$0")/.."
APP="${CLAUDE_RUNNER_APP_NAME:-claude-runner}"

# 1. The project's own virtualenv, with the runner installed in it.
if [ ! -x .venv/bin/python ]; then
  echo "creating .venv"
  python3 -m venv .venv
fi
if ! .venv/bin/python -c 'import watchdog, croniter, orjson, filelock, loguru' 2>/dev/null; then
  .venv/bin/python -m pip install -q -e .
fi

# 2. PM2: the one on PATH, else a local copy in .tools/pm2 (no global install needed).
if command -v pm2 >/dev/null 2>&1; then
  PM2=pm2
else
  PM2="$PWD/.tools/pm2/node_modules/.bin/pm2"
  if [ ! -x "$PM2" ]; then
    command -v npm >/dev/null 2>&1 || { echo "npm not found: install Node.js first" >&2; exit 1; }
    echo "installing pm2 into .tools/pm2"
    npm install --no-audit --no-fund --loglevel=error --prefix .tools/pm2 pm2
  fi
fi

# 3. Start it, or restart it with the current ecosystem file and environment; remember it.
if "$PM2" describe "$APP" >/dev/null 2>&1; then
  "$PM2" restart ecosystem.config.js --update-env
else
  "$PM2" start ecosystem.config.js
fi
"$PM2" save

echo
echo "claude-runner runs under PM2 as \"$APP\". Next:"
printf '  %-36s %s\n' \
  "pm2 status" "is it online?" \
  "pm2 logs $APP" "its output (also logs/runner-*.log)" \
  ".venv/bin/claude-runner status" "heartbeat, running task, queue" \
  "pm2 startup" "start PM2 at boot (run what it prints)"
[ "$PM2" = pm2 ] || echo "  (pm2 here is $PM2)"
