import pytest

from pipeline.domain.settings import Settings, SettingsError
from pipeline.domain.settings_load import load_settings


def test_defaults_without_a_file(tmp_path):
    assert load_settings(tmp_path, environ={}) == Settings()


def test_file_then_environment(tmp_path):
    (tmp_path / "runner.toml").write_text(
        '[runner]\npoll_interval = 5\nmax_retries = 1\n[agent]\ncommand = "/x/claude"\n'
        'extra_args = ["--verbose"]\nenv = {FOO = "1"}\n[queue]\nhigh_watermark = 20\n')
    settings = load_settings(tmp_path, environ={"CLAUDE_RUNNER_MAX_RETRIES": "4"})
    assert settings.poll_interval == 5.0 and settings.max_retries == 4
    assert settings.agent_command == "/x/claude" and settings.agent_extra_args == ("--verbose",)
    assert settings.agent_env == (("FOO", "1"),) and settings.high_watermark == 20


@pytest.mark.parametrize(("text", "key"), [
    ("[runner]\npoll_interval = \"fast\"\n", "runner.poll_interval"),
    ("[runner]\npoll_intervall = 3\n", "runner.poll_intervall"),
    ("[queue]\nhigh_watermark = 3\nlow_watermark = 5\n", "low_watermark"),
    ("[runner]\nkill_grace = 0\n", "kill_grace"),
    ("[security]\nworkspace_roots = [\"rel\"]\n", "workspace_roots"),
    ("[runner\n", "runner.toml"),
])
def test_bad_settings_name_the_key(tmp_path, text, key):
    (tmp_path / "runner.toml").write_text(text)
    with pytest.raises(SettingsError, match=key):
        load_settings(tmp_path, environ={})


def test_bad_environment_value_names_the_variable(tmp_path):
    with pytest.raises(SettingsError, match="CLAUDE_RUNNER_MAX_RETRIES"):
        load_settings(tmp_path, environ={"CLAUDE_RUNNER_MAX_RETRIES": "many"})


def test_flags_win_over_file_and_environment(tmp_path):
    (tmp_path / "runner.toml").write_text("[runner]\npoll_interval = 5\n")
    settings = load_settings(tmp_path, environ={"CLAUDE_RUNNER_POLL_INTERVAL": "7"},
                             flags=["runner.poll_interval=2", "agent.command=/opt/claude",
                                    "agent.extra_args=[\"--verbose\"]"])
    assert settings.poll_interval == 2.0 and settings.agent_command == "/opt/claude"
    assert settings.agent_extra_args == ("--verbose",)


def test_bad_flags_name_the_key(tmp_path):
    with pytest.raises(SettingsError, match="runner.poll_interval"):
        load_settings(tmp_path, environ={}, flags=["runner.poll_interval=fast"])
    with pytest.raises(SettingsError, match="expected section.key=value"):
        load_settings(tmp_path, environ={}, flags=["poll_interval"])


def test_daily_report_time(tmp_path):
    (tmp_path / "runner.toml").write_text('[runner]\ndaily_report_at = "01:30"\n')
    assert load_settings(tmp_path, environ={}).daily_report_at.isoformat() == "01:30:00"
    (tmp_path / "runner.toml").write_text('[runner]\ndaily_report_at = "late"\n')
    with pytest.raises(SettingsError, match="runner.daily_report_at"):
        load_settings(tmp_path, environ={})
