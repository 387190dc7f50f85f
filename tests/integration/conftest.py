from collections.abc import Iterator
from pathlib import Path

import pytest
from helpers import DaemonProcess, write_settings


@pytest.fixture
def root(tmp_path: Path) -> Path:
    write_settings(tmp_path)
    return tmp_path


@pytest.fixture
def daemon(root: Path) -> Iterator[DaemonProcess]:
    process = DaemonProcess(root)
    yield process
    process.stop()
