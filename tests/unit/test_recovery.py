from pipeline.recovery import Disposition, disposition


def test_an_archived_or_requeued_run_is_not_run_again():
    assert disposition(archived=True, queued=False, cancel_requested=False) is \
        Disposition.ALREADY_DONE
    assert disposition(archived=False, queued=True, cancel_requested=True) is \
        Disposition.ALREADY_DONE


def test_a_cancel_requested_while_down_is_honoured():
    assert disposition(False, False, True) is Disposition.CANCELLED


def test_otherwise_it_was_interrupted():
    assert disposition(False, False, False) is Disposition.INTERRUPTED
