"""The architecture is checked, not hoped for: import layering (import-linter contracts in
pyproject.toml) and the clock rule (only the clock, the composition roots, the CLI and the
execution code read the time of day; everything else is given `now`)."""

from __future__ import annotations

import ast
import shutil
import subprocess
import sys
import sysconfig
from pathlib import Path

REPO = Path(__file__).resolve().parents[2]
PACKAGE = REPO / "pipeline"

# Where reading the wall clock is allowed: the clock itself, the composition root that turns
# time into `now` for the loop, the CLI (a command's `now`), and the slot's process timing.
CLOCK_READERS = {"domain/clock.py", "daemon/daemon.py", "daemon/heartbeat.py", "cli/*",
                 "execution/*", "doctor/probes.py", "web/app.py",
                 # the postgres backend's node loop, its commands and its maintenance worker's
                 # periodic jobs are composition roots of their own
                 "postgres/node.py", "postgres/cli.py", "postgres/maintenance.py"}
WALL_CLOCK_CALLS = {("datetime", "now"), ("datetime", "utcnow"), ("date", "today"),
                    ("time", "time"), ("time", "time_ns"), ("clock", "now")}


def lint_imports(cwd: Path, *pythonpath: str) -> subprocess.CompletedProcess:
    env = {"PATH": "/usr/bin:/bin", "PYTHONPATH": ":".join(pythonpath)} if pythonpath else None
    flags = ["-S"] if pythonpath else []  # -S: no .pth files, so PYTHONPATH's copy is imported
    code = "import sys; from importlinter.cli import lint_imports; sys.exit(lint_imports())"
    return subprocess.run([sys.executable, *flags, "-c", code], cwd=cwd, env=env,
                          capture_output=True, text=True, timeout=120)


def test_import_contracts_hold():
    done = lint_imports(REPO)
    assert done.returncode == 0, done.stdout + done.stderr
    assert "BROKEN" not in done.stdout and "KEPT" in done.stdout


def test_a_deliberate_violation_breaks_the_contracts(tmp_path):
    shutil.copytree(PACKAGE, tmp_path / "pipeline")
    shutil.copy(REPO / "pyproject.toml", tmp_path)
    with (tmp_path / "pipeline" / "domain" / "gate.py").open("a") as module:
        module.write("\nimport pipeline.daemon.loop  # noqa\nimport subprocess  # noqa\n")
    done = lint_imports(tmp_path, str(tmp_path), sysconfig.get_paths()["purelib"],
                        sysconfig.get_paths()["platlib"])
    assert done.returncode != 0
    assert "layers BROKEN" in done.stdout
    assert "pure layers do no I/O BROKEN" in done.stdout


def _allowed(relative: str, allowed: set[str]) -> bool:
    folder = relative.split("/")[0]
    return relative in allowed or f"{folder}/*" in allowed


def wall_clock_reads(source: str) -> list[int]:
    """Lines calling datetime.now(), time.time(), clock.now(), ... or a `now` imported from the
    clock module."""
    tree = ast.parse(source)
    imported_now = any(isinstance(node, ast.ImportFrom) and node.module == "pipeline.domain.clock"
                       and any(alias.name == "now" for alias in node.names)
                       for node in ast.walk(tree))

    def reads_clock(func: ast.expr) -> bool:
        if isinstance(func, ast.Attribute) and isinstance(func.value, ast.Name):
            return (func.value.id, func.attr) in WALL_CLOCK_CALLS
        return isinstance(func, ast.Name) and func.id == "now" and imported_now

    return [node.lineno for node in ast.walk(tree)
            if isinstance(node, ast.Call) and reads_clock(node.func)]


def test_only_the_clock_readers_read_the_clock():
    offenders = []
    for path in sorted(PACKAGE.rglob("*.py")):
        relative = path.relative_to(PACKAGE).as_posix()
        if _allowed(relative, CLOCK_READERS):
            continue
        offenders += [f"{relative}:{line}" for line in wall_clock_reads(path.read_text())]
    assert offenders == [], "pass `now` in instead of reading the clock: " + ", ".join(offenders)


def test_the_clock_check_sees_each_form():
    source = ("import time\nfrom datetime import datetime, date\n"
              "from pipeline.domain.clock import now\nfrom pipeline.domain import clock\n"
              "a = time.time()\nb = datetime.now()\nc = date.today()\nd = now()\ne = clock.now()\n"
              "f = time.monotonic()\n")
    assert wall_clock_reads(source) == [5, 6, 7, 8, 9]


def test_every_module_imports():
    """A name removed in one place and still imported in another fails here, not at run time
    in a code path no other test takes."""
    import importlib
    import pkgutil

    import pipeline

    broken = []
    for module in pkgutil.walk_packages(pipeline.__path__, "pipeline."):
        if not module.name.endswith("__main__"):
            try:
                importlib.import_module(module.name)
            except Exception as error:  # noqa: BLE001 - collected and reported together
                broken.append(f"{module.name}: {error!r}")
    assert broken == []
