"""The ack window: contiguous acks, duplicates, gaps, window limit."""

from hub.ingest.acks import AckWindow, Receipt


def test_ack_moves_only_over_contiguous_settled_numbers():
    w = AckWindow(100)
    for seq in (1, 2, 3, 4):
        assert w.receive(seq) is Receipt.NEW
    assert w.settle([2, 3]) is None  # 1 is not settled yet
    assert w.settle([1]) == 3
    assert w.settle([4]) == 4
    assert (w.pending, w.settled) == (set(), set())


def test_duplicates_are_recognised_pending_settled_and_acked():
    w = AckWindow(100)
    w.receive(1)
    assert w.receive(1) is Receipt.DUPLICATE  # pending
    w.receive(3)
    w.settle([3])
    assert w.receive(3) is Receipt.DUPLICATE  # settled above a gap
    w.receive(2)
    w.settle([1, 2])
    assert w.acked == 3
    assert w.receive(2) is Receipt.DUPLICATE  # at or below the ack


def test_numbers_beyond_the_window_are_refused_and_not_remembered():
    w = AckWindow(10)
    assert w.receive(11) is Receipt.OUT_OF_WINDOW
    assert w.receive(10) is Receipt.NEW
    assert 11 not in w.pending


def test_forgotten_numbers_can_come_again():
    w = AckWindow(10)
    w.receive(1)
    w.forget(1)
    assert w.receive(1) is Receipt.NEW


def test_settling_unknown_numbers_changes_nothing():
    w = AckWindow(10)
    assert w.settle([1, 2]) is None
    assert w.acked == 0
