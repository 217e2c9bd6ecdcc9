"""Progress of long work: a rich bar on stderr when stderr is a terminal, nothing otherwise.

::

    with api.progress("exporting room-123", total=events, unit="events") as bar:
        for batch in batches:
            ...
            bar.advance(len(batch), nbytes=written)

The bar shows the label, count/total, rate, elapsed and time remaining, and bytes when the work
reports them. With stderr piped or redirected (CI, ``2>log``) ``progress`` returns a no-op with
the same methods, so commands never branch on it, and rich is never imported.
``SCAIWAVE_PROGRESS=off`` turns it off on a terminal too.
"""

from __future__ import annotations

import contextlib
import os
from collections.abc import Iterator

from scaiwave_cli.terminal import stderr_is_terminal


class _Silent:
    """What ``progress`` yields when nobody is watching: counts, prints nothing."""

    def __init__(self, total: int | None):
        self.total = total
        self.completed = 0
        self.nbytes = 0

    def advance(self, n: int = 1, *, nbytes: int = 0) -> None:
        self.completed += n
        self.nbytes += nbytes

    def set_total(self, total: int | None) -> None:
        self.total = total

    def describe(self, label: str) -> None:
        pass


class _Bar(_Silent):
    def __init__(self, rich_progress, task, total):
        super().__init__(total)
        self._progress = rich_progress
        self._task = task

    def advance(self, n: int = 1, *, nbytes: int = 0) -> None:
        super().advance(n, nbytes=nbytes)
        fields = {}
        if nbytes:
            from rich.filesize import decimal

            fields["size"] = decimal(self.nbytes)
        self._progress.update(self._task, advance=n, **fields)

    def set_total(self, total: int | None) -> None:
        super().set_total(total)
        self._progress.update(self._task, total=total)

    def describe(self, label: str) -> None:
        self._progress.update(self._task, description=label)


def enabled() -> bool:
    """True when a bar would be drawn (stderr is a terminal and not switched off)."""
    if os.environ.get("SCAIWAVE_PROGRESS", "").lower() in ("off", "0", "no", "false"):
        return False
    return stderr_is_terminal()


@contextlib.contextmanager
def progress(label: str, *, total: int | None = None, unit: str = "items") -> Iterator[_Silent]:
    """A progress reporter for ``label``; see the module docstring."""
    if not enabled():
        yield _Silent(total)
        return
    from rich.console import Console
    from rich.progress import (
        BarColumn,
        MofNCompleteColumn,
        Progress,
        ProgressColumn,
        TaskProgressColumn,
        TextColumn,
        TimeElapsedColumn,
        TimeRemainingColumn,
    )
    from rich.text import Text

    class RateColumn(ProgressColumn):
        """Items per second (rich's own speed column counts bytes)."""

        def render(self, task):
            speed = task.finished_speed or task.speed
            shown = "" if speed is None else f"{speed:,.0f} {unit}/s"
            return Text(shown, style="progress.data.speed")

    columns = (
        TextColumn("[progress.description]{task.description}"),
        BarColumn(),
        MofNCompleteColumn(),
        TextColumn(unit),
        TaskProgressColumn(),
        RateColumn(),
        TextColumn("{task.fields[size]}"),
        TimeElapsedColumn(),
        TimeRemainingColumn(),
    )
    with Progress(*columns, console=Console(stderr=True), transient=False) as rich_progress:
        task = rich_progress.add_task(label, total=total, size="")
        bar = _Bar(rich_progress, task, total)
        yield bar
