"""The import's writer thread: ``BackgroundWriter`` overlaps parsing with the database's work."""

from __future__ import annotations

import queue
import threading


class BackgroundWriter:
    """Runs ``write(batch)`` in one helper thread so parsing the next batch overlaps the
    database's work on this one (sqlite3 and PyMySQL release the GIL while the database works).
    At most ``depth`` batches wait; ``close()`` drains and re-raises the writer's error; the
    connection is never used by two threads at once (the caller touches it only before the
    first batch and after ``close()``)."""

    def __init__(self, write, depth: int = 2):
        self._write = write
        self._queue = queue.Queue(maxsize=depth)
        self._error: BaseException | None = None
        self._discard = False
        self._thread = threading.Thread(target=self._run, name="room-import-writer", daemon=True)
        self._thread.start()

    def _run(self) -> None:
        while True:
            rows = self._queue.get()
            if rows is None:
                return
            if self._error is None and not self._discard:
                try:
                    self._write(rows)
                except BaseException as exc:  # handed to the caller in put()/close()
                    self._error = exc

    def __call__(self, rows) -> None:
        if self._error is not None:
            self.close()
        self._queue.put(rows)

    def close(self, discard: bool = False) -> None:
        """Wait for the writer; ``discard`` drops the batches still waiting (on an error)."""
        self._discard = self._discard or discard
        if self._thread.is_alive():
            self._queue.put(None)
            self._thread.join()
        if self._error is not None and not discard:
            error, self._error = self._error, None
            raise error
