"""The import's writer thread: errors reach the caller, discarded batches are not written."""

from __future__ import annotations

import threading

import pytest

pytest.importorskip("scaiwave_cli.store.models", reason="needs the store's models")


def _writer():
    from scaiwave_room.adapters.db import BackgroundWriter

    return BackgroundWriter


def test_batches_are_written_in_order_by_one_thread():
    seen, threads = [], set()

    def write(rows):
        seen.append(rows)
        threads.add(threading.get_ident())

    writer = _writer()(write)
    for i in range(10):
        writer([i])
    writer.close()
    assert seen == [[i] for i in range(10)]
    assert len(threads) == 1 and threading.get_ident() not in threads


def test_a_write_error_is_raised_to_the_caller():
    def write(rows):
        raise RuntimeError("disk full")

    writer = _writer()(write)
    writer([1])
    with pytest.raises(RuntimeError, match="disk full"):
        for i in range(10):
            writer([i])
        writer.close()


def test_discard_drops_waiting_batches():
    gate = threading.Event()
    seen = []

    def write(rows):
        gate.wait()
        seen.append(rows)

    writer = _writer()(write, depth=5)
    for i in range(4):
        writer([i])
    gate.set()
    writer.close(discard=True)
    assert len(seen) <= 1
