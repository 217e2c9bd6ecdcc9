"""One output contract for every command: ``--output table|json|jsonl|csv``.

- ``table``: rich on a terminal (``NO_COLOR`` respected), plain aligned text when piped.
- ``json``: one document (a list for ``rows``, an object for ``record``).
- ``jsonl``: one object a line, streamed as rows come.
- ``csv``: a header, then one line a row, streamed.

Data goes to stdout; ``info``/``warn`` go to stderr. ``rows`` accepts any iterable, so a command
can hand it a generator over a streamed query and memory stays flat for json/jsonl/csv (a table
has to see every row to align its columns).
"""

from __future__ import annotations

import datetime as _dt
import json
import os
import sys
from collections.abc import Callable, Iterable, Sequence
from decimal import Decimal
from pathlib import Path

import click

from scaiwave_cli.errors import redact
from scaiwave_cli.terminal import is_terminal


def _default(value):
    if isinstance(value, _dt.datetime | _dt.date):
        return value.isoformat()
    if isinstance(value, Decimal):
        return int(value) if value == value.to_integral_value() else float(value)
    if isinstance(value, Path | set | frozenset | bytes):
        return str(value) if not isinstance(value, set | frozenset) else sorted(value)
    return str(value)


def to_json(value, **kwargs) -> str:
    return json.dumps(value, default=_default, ensure_ascii=False, **kwargs)


def human_bytes(n: int | None) -> str:
    if n is None:
        return ""
    size = float(n)
    for unit in ("B", "KiB", "MiB", "GiB", "TiB"):
        if size < 1024 or unit == "TiB":
            return f"{int(size)} {unit}" if unit == "B" else f"{size:.1f} {unit}"
        size /= 1024
    return f"{n} B"


def _cell(value) -> str:
    if value is None:
        return ""
    if isinstance(value, bool):
        return "yes" if value else "no"
    if isinstance(value, dict | list):
        return to_json(value)
    if isinstance(value, _dt.datetime):
        return value.replace(microsecond=0).isoformat(sep=" ")
    return str(value)


class Output:
    """Writes records in the chosen format. Create through ``AppContext.out``."""

    def __init__(self, fmt: str = "table", stream=None):
        self.format = fmt
        self.stream = stream or sys.stdout

    # -- data ---------------------------------------------------------------------------------
    def rows(
        self,
        rows: Iterable[dict],
        columns: Sequence[str] | None = None,
        *,
        title: str | None = None,
        table_formatters: dict[str, Callable] | None = None,
    ) -> int:
        """Write a list of records; returns how many were written."""
        fmt = self.format
        if fmt == "json":
            return self._json_array(rows)
        if fmt == "jsonl":
            count = 0
            for row in rows:
                self._write(to_json(row) + "\n")
                count += 1
            return count
        if fmt == "csv":
            return self._csv(rows, columns)
        return self._table(list(rows), columns, title, table_formatters or {})

    def record(self, record: dict, *, title: str | None = None) -> None:
        """Write one object (a created tenant, a command's result)."""
        if self.format == "json":
            self._write(to_json(record, indent=2) + "\n")
        elif self.format == "jsonl":
            self._write(to_json(record) + "\n")
        elif self.format == "csv":
            self._csv([record], list(record))
        else:
            width = max((len(k) for k in record), default=0)
            lines = [title] if title else []
            for key, value in record.items():
                lines.append(f"{key.ljust(width)}  {_cell(value)}")
            self._write("\n".join(lines) + "\n")

    def text(self, line: str) -> None:
        """Free text on stdout (only for table output; machine formats use record/rows)."""
        self._write(line + "\n")

    # -- diagnostics (stderr) -----------------------------------------------------------------
    @staticmethod
    def info(message: str) -> None:
        click.echo(redact(message), err=True)

    @staticmethod
    def warn(message: str) -> None:
        click.echo(f"warning: {redact(message)}", err=True)

    # -- formats ------------------------------------------------------------------------------
    def _write(self, text: str) -> None:
        self.stream.write(redact(text))

    def _json_array(self, rows) -> int:
        count = 0
        self._write("[")
        for row in rows:
            self._write(("," if count else "") + "\n  " + to_json(row))
            count += 1
        self._write("\n]\n" if count else "]\n")
        return count

    def _csv(self, rows, columns) -> int:
        import csv
        import io

        buffer = io.StringIO()
        writer = None
        count = 0
        for row in rows:
            if writer is None:
                cols = list(columns or row.keys())
                writer = csv.DictWriter(buffer, fieldnames=cols, extrasaction="ignore")
                writer.writeheader()
            writer.writerow({k: _csv_cell(v) for k, v in row.items()})
            count += 1
            if buffer.tell() > 65536:
                self._write(buffer.getvalue())
                buffer.seek(0)
                buffer.truncate()
        if writer is None and columns:
            csv.writer(buffer).writerow(columns)
        self._write(buffer.getvalue())
        return count

    def _table(self, rows, columns, title, formatters) -> int:
        cols = list(columns or (rows[0].keys() if rows else []))
        cells = [[_cell(formatters.get(c, lambda v: v)(row.get(c))) for c in cols] for row in rows]
        if is_terminal(self.stream):
            from rich.console import Console
            from rich.table import Table

            table = Table(title=title, header_style="bold cyan")
            for col in cols:
                table.add_column(col)
            for line in cells:
                table.add_row(*[redact(c) for c in line])
            Console(file=self.stream, no_color=bool(os.environ.get("NO_COLOR"))).print(table)
            return len(rows)
        widths = [len(c) for c in cols]
        for line in cells:
            widths = [max(w, len(c)) for w, c in zip(widths, line, strict=True)]
        out = []
        if title:
            out.append(title)
        if cols:
            out.append("  ".join(c.ljust(w) for c, w in zip(cols, widths, strict=True)).rstrip())
        for line in cells:
            out.append("  ".join(c.ljust(w) for c, w in zip(line, widths, strict=True)).rstrip())
        if out:
            self._write("\n".join(out) + "\n")
        return len(rows)


def _csv_cell(value):
    if isinstance(value, dict | list):
        return to_json(value)
    if isinstance(value, _dt.datetime):
        return value.isoformat()
    if value is None:
        return ""
    return value
