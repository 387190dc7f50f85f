from pipeline.daemon.recovery import Disposition, disposition, output_of_attempt


def test_an_archived_or_requeued_run_is_not_run_again():
    assert disposition(archived=True, queued=False, cancel_requested=False) is \
        Disposition.ALREADY_DONE
    assert disposition(archived=False, queued=True, cancel_requested=True) is \
        Disposition.ALREADY_DONE


def test_a_cancel_requested_while_down_is_honoured():
    assert disposition(False, False, True) is Disposition.CANCELLED


def test_otherwise_it_was_interrupted():
    assert disposition(False, False, False) is Disposition.INTERRUPTED


def test_an_agent_that_finished_while_we_were_down_is_not_run_again():
    assert disposition(False, False, False, finished_ok=True) is Disposition.FINISHED
    assert disposition(True, False, False, finished_ok=True) is Disposition.ALREADY_DONE


def test_the_output_of_the_right_attempt_is_read(tmp_path):
    log = tmp_path / "t.log"
    log.write_text("\n===== attempt 1 at A: claude\nfirst\n\n===== attempt 2 at B: claude\n"
                   '{"type": "result"}\n')
    assert output_of_attempt(log, "===== attempt 2 at B") == '{"type": "result"}\n'
    assert output_of_attempt(log, "===== attempt 1 at A").startswith("first")
    assert output_of_attempt(log, "===== attempt 3 at C") is None
    assert output_of_attempt(tmp_path / "missing.log", "x") is None
