// PM2 process file for claude-runner:  pm2 start ecosystem.config.js && pm2 save
//
// Environment knobs (read when `pm2 start` evaluates this file):
//   CLAUDE_RUNNER_ROOT          state folder (tasks/, inbox/, logs/); default: this folder
//   CLAUDE_RUNNER_APP_NAME      PM2 app name; default "claude-runner" (tests use a unique one)
//   CLAUDE_RUNNER_RESTART_DELAY ms PM2 waits before restarting after a crash; default 10000
//   CLAUDE_RUNNER_CRON_RESTART  the daily restart, as the original set-up had it: "0 12 * * *" by
//                               default; another cron expression replaces it, "off" removes it.
//                               A restart interrupts the running task, which is put back at the
//                               head of the queue uncounted and then resumes its agent session
//                               (`--resume`), so the agent's work is kept (see README, Resuming).
//   CLAUDE_RUNNER_WEB           set (e.g. "1") to add a second app, "<name>-web": the dashboard
//                               (`claude-runner web`, needs `pip install -e '.[web]'`). Off by
//                               default. It binds [web] host/port from runner.toml (127.0.0.1:8765).
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

const cronSetting = (process.env.CLAUDE_RUNNER_CRON_RESTART || "").trim();
const cronWord = cronSetting.toLowerCase();
if (!["off", "0", "false", "no"].includes(cronWord)) {
  // unset, or "1"/"on" as the opt-in used to be spelt: the daily restart at 12:00
  const isCron = cronSetting.split(/\s+/).length >= 5 || cronSetting.startsWith("@");
  app.cron_restart = isCron ? cronSetting : "0 12 * * *";
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

const apps = [...head, ...nodeApps];
if (process.env.CLAUDE_RUNNER_WEB) {
  apps.push({
    name: `${app.name}-web`,
    script: python,
    args: ["-u", "-m", "pipeline", "web"],
    interpreter: "none",
    cwd: __dirname,
    autorestart: true,
    restart_delay: 5000,
    kill_timeout: 5000,
    env: { PYTHONUNBUFFERED: "1", CLAUDE_RUNNER_ROOT: root },
    out_file: path.join(root, "logs", "web-out.log"),
    error_file: path.join(root, "logs", "web-error.log"),
    time: true,
  });
}

module.exports = { apps };
