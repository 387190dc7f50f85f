from pathlib import Path

import pytest
from helpers import write_settings

pytest.importorskip("starlette", reason="the [web] extra is not installed")


@pytest.fixture
def root(tmp_path: Path) -> Path:
    write_settings(tmp_path)
    for folder in ("tasks", "inbox", "logs"):
        (tmp_path / folder).mkdir(exist_ok=True)
    return tmp_path
