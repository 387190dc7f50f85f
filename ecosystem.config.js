// PM2 process file for claude-runner:  pm2 start ecosystem.config.js && pm2 save
//
// Environment knobs (read when `pm2 start` evaluates this file):
//   CLAUDE_RUNNER_ROOT          state folder (tasks/, inbox/, logs/); default: this folder
//   CLAUDE_RUNNER_APP_NAME      PM2 app name; default "claude-runner" (tests use a unique one)
//   CLAUDE_RUNNER_RESTART_DELAY ms PM2 waits before restarting after a crash; default 10000
//   CLAUDE_RUNNER_CRON_RESTART  set (e.g. "1") to add a daily restart at 12:00. Optional, off by
//                               default: a restart interrupts the running task. The runner puts
//                               that task back at the head of the queue without counting an
//                               attempt, but the work the agent had done in that attempt is lost.
const fs = require("fs");
const path = require("path");

const isWindows = process.platform === "win32";
const venvPython = isWindows
  ? path.join(__dirname, ".venv", "Scripts", "python.exe")
  : path.join(__dirname, ".venv", "bin", "python");
const python = fs.existsSync(venvPython) ? venvPython : isWindows ? "python" : "python3";
const root = process.env.CLAUDE_RUNNER_ROOT || __dirname;
const restartDelay = parseInt(process.env.CLAUDE_RUNNER_RESTART_DELAY || "", 10);

const app = {
  name: process.env.CLAUDE_RUNNER_APP_NAME || "claude-runner",
  script: python,
  args: ["-u", "-m", "pipeline", "run"],
  interpreter: "none",
  cwd: __dirname, // so `-m pipeline` finds this checkout even without `pip install -e .`
  autorestart: true,
  max_restarts: 30,
  restart_delay: Number.isFinite(restartDelay) && restartDelay >= 0 ? restartDelay : 10000,
  max_memory_restart: "5000M",
  // PM2 sends SIGINT, then SIGKILL after kill_timeout. The runner stops its agent and exits
  // within kill_grace (10 s) + 5 s, so give it more than that.
  kill_timeout: 20000,
  env: {
    PYTHONUNBUFFERED: "1",
    CLAUDE_RUNNER_ROOT: root,
  },
  // Inside the root's logs/ (this folder's logs/ unless CLAUDE_RUNNER_ROOT says otherwise).
  out_file: path.join(root, "logs", "runner-out.log"),
  error_file: path.join(root, "logs", "runner-error.log"),
  time: true, // timestamp every line
};

if (process.env.CLAUDE_RUNNER_CRON_RESTART) {
  app.cron_restart = "0 12 * * *";
}

// Postgres backend (README, "Several machines and accounts"): CLAUDE_RUNNER_NODES="alice,bob"
// adds one node per account; CLAUDE_RUNNER_HEAD=0 leaves the head out (a machine with nodes only).
const nodes = (process.env.CLAUDE_RUNNER_NODES || "").split(",").map((s) => s.trim()).filter(Boolean);
const nodeApps = nodes.map((account) => ({
  ...app,
  name: `${app.name}-node-${account}`,
  args: ["-u", "-m", "pipeline", "node", "--account", account],
  cron_restart: undefined,
  out_file: path.join(root, "logs", `node-${account}-out.log`),
  error_file: path.join(root, "logs", `node-${account}-error.log`),
}));
const head = process.env.CLAUDE_RUNNER_HEAD === "0" ? [] : [app];

module.exports = { apps: [...head, ...nodeApps] };
