"""The import's writer thread: errors reach the caller, discarded batches are not written."""

from __future__ import annotations

import threading
import time

import pytest
from scaiwave_room.usecases.writer_thread import BackgroundWriter


def test_batches_are_written_in_order_by_one_thread():
    seen, threads = [], set()

    def write(rows):
        seen.append(rows)
        threads.add(threading.get_ident())

    writer = BackgroundWriter(write)
    for i in range(10):
        writer([i])
    writer.close()
    assert seen == [[i] for i in range(10)]
    assert len(threads) == 1 and threading.get_ident() not in threads


def test_a_write_error_is_raised_to_the_caller():
    def write(rows):
        raise RuntimeError("disk full")

    writer = BackgroundWriter(write)
    writer([1])
    with pytest.raises(RuntimeError, match="disk full"):
        for i in range(10):
            writer([i])
        writer.close()


def test_discard_drops_waiting_batches():
    """One batch in flight (the writer is inside ``write`` with it), three waiting in the
    queue: ``close(discard=True)`` lets the one in flight finish and writes none of the rest.

    ``in_flight`` proves the first batch reached ``write`` before anything else is queued and
    before the discard, so the named case is reached on every run, not by luck of timing."""
    in_flight = threading.Event()
    release = threading.Event()
    seen = []

    def write(rows):
        in_flight.set()
        assert release.wait(10), "the test never released the writer"
        seen.append(rows)

    writer = BackgroundWriter(write, depth=5)
    writer([0])
    assert in_flight.wait(10), "the first batch never reached the writer"
    for i in range(1, 4):
        writer([i])  # queued behind the batch in flight (depth 5: none blocks)
    assert writer._queue.qsize() == 3  # the rest are waiting, not being written
    closer = threading.Thread(target=writer.close, kwargs={"discard": True})
    closer.start()
    # close() marks the discard before it queues its stop and joins; only then is the writer
    # released, so the waiting batches are taken from the queue after the discard is known
    while not writer._discard:
        time.sleep(0.001)
    release.set()
    closer.join(10)
    assert not closer.is_alive()
    assert seen == [[0]]  # the batch in flight finished; the three waiting ones were dropped


def test_without_discard_every_waiting_batch_is_written():
    """The control case of the test above: the same steps without ``discard`` write all four
    (so the discard test fails if ``discard`` stopped dropping anything)."""
    in_flight = threading.Event()
    release = threading.Event()
    seen = []

    def write(rows):
        in_flight.set()
        assert release.wait(10)
        seen.append(rows)

    writer = BackgroundWriter(write, depth=5)
    writer([0])
    assert in_flight.wait(10)
    for i in range(1, 4):
        writer([i])
    release.set()
    writer.close()
    assert seen == [[0], [1], [2], [3]]
