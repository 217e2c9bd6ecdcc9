"""``HashBuckets``: columns of 64-bit ints (id hashes, positions) bucketed by hash and spilled
to a temporary file, so checking the relations of twenty million events costs flat memory."""

from __future__ import annotations

from array import array

BUCKETS = 256


class HashBuckets:
    """Rows of ``width`` signed 64-bit ints, partitioned into 256 buckets by the low bits of
    their first column (a hash). At most ``limit`` rows stay in memory; then every bucket's rows
    are appended to one temporary file (``array.tofile``), so a million or twenty million rows
    cost the same memory. ``bucket(b)`` gives bucket ``b``'s columns back, in insertion order."""

    LIMIT = 1 << 17  # rows held in memory (about 3 MB for three columns)

    def __init__(self, width: int, limit: int | None = None):
        if not 1 <= width <= 3:
            raise ValueError("1 to 3 columns")
        self.width = width
        self.limit = limit or self.LIMIT
        self.rows = 0
        self._mem = [tuple(array("q") for _ in range(width)) for _ in range(BUCKETS)]
        self._pending = 0
        self._segments: list[list[tuple[int, int]]] = [[] for _ in range(BUCKETS)]
        self._file = None

    def add(self, *values: int) -> None:
        columns = self._mem[values[0] & (BUCKETS - 1)]
        columns[0].append(values[0])
        if self.width > 1:
            columns[1].append(values[1])
            if self.width > 2:
                columns[2].append(values[2])
        self.rows += 1
        self._pending += 1
        if self._pending >= self.limit:
            self._spill()

    def add2(self, first: int, second: int) -> None:
        """``add(first, second)`` for two columns, without the general case's steps."""
        columns = self._mem[first & (BUCKETS - 1)]
        columns[0].append(first)
        columns[1].append(second)
        self.rows += 1
        self._pending += 1
        if self._pending >= self.limit:
            self._spill()

    def _spill(self) -> None:
        import tempfile

        if self._file is None:
            self._file = tempfile.TemporaryFile(prefix="scaiwave-room-ids-")
        for b, columns in enumerate(self._mem):
            n = len(columns[0])
            if n:
                self._segments[b].append((self._file.tell(), n))
                for column in columns:
                    column.tofile(self._file)
                    del column[:]
        self._pending = 0

    def bucket(self, b: int) -> tuple:
        out = tuple(array("q") for _ in range(self.width))
        for offset, n in self._segments[b]:
            self._file.seek(offset)
            for column in out:
                column.fromfile(self._file, n)
        for column, held in zip(out, self._mem[b], strict=True):
            column.extend(held)
        return out

    def close(self) -> None:
        if self._file is not None:
            self._file.close()
            self._file = None
