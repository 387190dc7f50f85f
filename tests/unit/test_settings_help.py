"""Settings errors that help: the closest known key is suggested."""

import pytest

from pipeline.domain.settings import SettingsError
from pipeline.domain.settings_load import load_settings


@pytest.mark.parametrize(("flag", "suggested"), [
    ("queue.high_watermak=5", "queue.high_watermark"),
    ("runner.high_watermark=5", "queue.high_watermark"),  # right name, wrong section
    ("agent.comand=x", "agent.command"),
    ('hooks.on_task_fail=["x"]', "hooks.on_task_failed"),
])
def test_an_unknown_key_names_the_closest_known_one(tmp_path, flag, suggested):
    with pytest.raises(SettingsError, match=f"did you mean {suggested}\\?"):
        load_settings(tmp_path, environ={}, flags=[flag])


def test_nothing_close_suggests_nothing(tmp_path):
    with pytest.raises(SettingsError) as error:
        load_settings(tmp_path, environ={}, flags=["zzz.qqq=1"])
    assert "did you mean" not in str(error.value)
