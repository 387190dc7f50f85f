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
"$PM2" save >/dev/null

# 4. Rotate PM2's own logs (logs/runner-out.log, runner-error.log): a 24/7 process must not
#    fill the disk. pm2-logrotate is PM2's module for it (once per PM2 install; needs npm).
#    CLAUDE_RUNNER_LOGROTATE=0 skips this step.
if [ "${CLAUDE_RUNNER_LOGROTATE:-1}" != 0 ]; then
  if ! "$PM2" jlist 2>/dev/null | grep -q '"name":"pm2-logrotate"'; then
    echo "installing pm2-logrotate (rotates PM2's log files)"
    "$PM2" install pm2-logrotate >/dev/null || echo "WARNING: could not install pm2-logrotate;" \
      "run: $PM2 install pm2-logrotate" >&2
  fi
  for setting in max_size=20M retain=14 compress=true; do
    "$PM2" set "pm2-logrotate:${setting%%=*}" "${setting#*=}" >/dev/null 2>&1 || true
  done
fi

# pm2 here may be our local copy: print commands that work as typed.
SHOWN="$PM2"
echo
echo "claude-runner runs under PM2 as \"$APP\". Next:"
printf '  %s\n      (%s)\n' \
  "$SHOWN status" "is it online?" \
  "$SHOWN logs $APP" "its output (also logs/runner-*.log, rotated)" \
  "$SHOWN monit" "live view, with queue length and level" \
  "$PWD/.venv/bin/claude-runner status" "heartbeat, running task, queue" \
  "$SHOWN startup" "start PM2 at boot (run what it prints)"
if [ "$PM2" != pm2 ]; then
  echo
  echo "pm2 is not on your PATH; to type plain \"pm2\", run (or add to ~/.profile):"
  echo "  export PATH=\"$(dirname "$PM2"):\$PATH\""
fi
