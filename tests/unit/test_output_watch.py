import json
import threading

from helpers import wait_for

from pipeline.execution.output_watch import OutputWatch, count_turns


def test_turns_are_assistant_events():
    lines = [json.dumps({"type": "system", "subtype": "init"}).encode(),
             json.dumps({"type": "assistant", "message": {}}).encode(),
             json.dumps({"type": "user"}).encode(),
             json.dumps({"type": "assistant", "message": {}}).encode(),
             b'{"type": "assistant", "trunc']
    assert count_turns(lines) == 2


def test_progress_is_reported_and_silence_ends_the_run(tmp_path):
    log = tmp_path / "t.log"
    log.write_bytes(b"header\n")
    reports: list = []
    idle = threading.Event()
    watch = OutputWatch(log, offset=len(b"header\n"), idle_timeout=0.8,
                        on_progress=reports.append, on_idle=idle.set)
    watch.start()
    with open(log, "ab") as handle:
        handle.write(json.dumps({"type": "assistant"}).encode() + b"\n")
    wait_for(lambda: reports, timeout=5, message="a progress report")
    assert reports[0].turns == 1 and reports[0].at
    assert not idle.is_set()
    assert idle.wait(timeout=5), "an idle run is ended"
