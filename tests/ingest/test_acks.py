"""The ack window: contiguous acks, duplicates, gaps, window limit."""

from hypothesis import given
from hypothesis import strategies as st

from hub.ingest.acks import AckWindow, Receipt


def test_ack_moves_only_over_contiguous_settled_numbers():
    w = AckWindow(100)
    for seq in (1, 2, 3, 4):
        assert w.receive(seq) is Receipt.NEW
    assert w.settle([2, 3]) is None  # 1 is not settled yet
    assert w.settle([1]) == 3
    assert w.settle([4]) == 4
    assert (w.holes, w.settled) == (set(), set())


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
    assert w.receive(11) is Receipt.OUT_OF_WINDOW  # still: nothing is acked yet
    w.settle(list(range(1, 11)))  # 1..9 were holes, never seen: only 10 settles
    assert w.acked == 0


def test_settling_unknown_numbers_changes_nothing():
    w = AckWindow(10)
    assert w.settle([1, 2]) is None
    assert w.acked == 0


class Reference:
    """The obvious model with sets, to check the fast paths against."""

    def __init__(self, window: int) -> None:
        self.window, self.acked, self.seen, self.settled = window, 0, set(), set()

    def receive(self, seq: int) -> Receipt:
        if seq <= self.acked or seq in self.seen:
            return Receipt.DUPLICATE
        if seq > self.acked + self.window:
            return Receipt.OUT_OF_WINDOW
        self.seen.add(seq)
        return Receipt.NEW

    def settle(self, seqs: list[int]) -> int | None:
        self.settled |= {s for s in seqs if s in self.seen}
        before = self.acked
        while self.acked + 1 in self.settled:
            self.acked += 1
        return self.acked if self.acked != before else None


@given(
    st.lists(
        st.one_of(
            st.tuples(st.just("receive"), st.integers(1, 40)),
            st.tuples(st.just("settle"), st.lists(st.integers(1, 40), max_size=6)),
            st.tuples(st.just("run"), st.integers(1, 8)),
        ),
        max_size=60,
    ),
    st.integers(1, 30),
)
def test_window_behaves_like_the_set_model(operations, window):
    fast, model = AckWindow(window), Reference(window)
    for op, arg in operations:
        if op == "receive":
            assert fast.receive(arg) is model.receive(arg), (op, arg)
        elif op == "settle":
            assert fast.settle(arg) == model.settle(arg), (op, arg)
        else:  # an in-order frame: receive the next numbers at once, then commit them
            first = fast.high + 1
            seqs = list(range(first, first + arg))
            expected = [model.receive(s) for s in seqs]
            if fast.receive_run(first, seqs[-1]):
                assert expected == [Receipt.NEW] * arg
            else:  # beyond the window: one by one, as the intake then does
                assert [fast.receive(s) for s in seqs] == expected
            assert fast.settle(seqs) == model.settle(seqs)
        assert fast.acked == model.acked
