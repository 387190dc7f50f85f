"""`claude-runner logs`: lines with the task id and the stage, and tail -n."""


from loguru import logger

from pipeline import log
from pipeline.cli.logs import runner_line, tail_offset
from pipeline.storage.layout import Layout


def test_runner_lines_show_task_and_stage_not_code_locations(tmp_path):
    layout = Layout(tmp_path)
    layout.ensure()
    log.setup(layout)
    try:
        logger.bind(task="t-42").info("admitted from a.json")
        try:
            raise ValueError("boom")
        except ValueError:
            logger.exception("it broke")
    finally:
        log.quiet()
    first, second = layout.runner_log.read_bytes().splitlines()[:2]
    shown = runner_line(first)
    assert " INFO " in shown and "t-42" in shown and "test_logs_readable" in shown
    assert shown.endswith("admitted from a.json") and ":" not in shown.split("INFO")[1]
    broken = runner_line(second)
    assert "it broke" in broken and "ValueError: boom" in broken
    assert runner_line(b"not json") == "not json"


def test_tail_offset_finds_the_last_lines(tmp_path):
    path = tmp_path / "x.log"
    path.write_bytes(b"".join(b"line %d\n" % n for n in range(1000)))
    data = path.read_bytes()
    assert data[tail_offset(path, 3):] == b"line 997\nline 998\nline 999\n"
    assert data[tail_offset(path, 3, block=7):] == b"line 997\nline 998\nline 999\n"
    assert tail_offset(path, 0) == 0 and tail_offset(path, 5000) == 0
    path.write_bytes(b"a\nb")  # no final newline
    assert path.read_bytes()[tail_offset(path, 1):] == b"b"
    assert tail_offset(tmp_path / "missing", 5) == 0
