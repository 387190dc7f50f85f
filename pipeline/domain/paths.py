"""Paths written for another operating system (a schedule copied from a Windows machine
to a Linux one, or the reverse) get a message that says exactly that."""

from __future__ import annotations

import os
import re

_WINDOWS = re.compile(r"^(?:[A-Za-z]:[\\/]|\\\\)")  # E:\work, E:/work, \\server\share


def foreign_path_problem(value: str, windows: bool = os.name == "nt") -> str | None:
    """Why `value` cannot be a path on this machine because it belongs to the other
    family of systems, or None."""
    if not windows and _WINDOWS.match(value):
        return (f"{value} is a Windows path, but this runner runs on a POSIX system "
                "(Linux/macOS): use the folder's path on this machine, like /home/me/project")
    if windows and value.startswith("/") and not value.startswith("//"):
        return (f"{value} is a POSIX path, but this runner runs on Windows: use the "
                "folder's path on this machine, like C:\\Users\\me\\project")
    return None
