"""The import's fast inserts on the session's own connection (same transaction): the events
of a bundle, a batch at a time (``event_writer``), as multi-row INSERTs on both databases
(``RawInsert``: bound parameters on SQLite; ``InlineInsert``: the values written into the
statement on MariaDB, as PyMySQL's executemany writes them)."""

from __future__ import annotations

import datetime as _dt

from scaiwave_cli import api

m = api.store.models


def event_writer(session, columns, text_columns):
    """``write(write.prepare((event_rows, media_rows)))``: inserts a batch of events (tuples in
    ``columns`` order, all but the last: ``write`` appends the next stream position) and their
    media rows (dicts) on the session's connection, in its transaction. ``prepare`` uses no
    connection and may run in another thread (on MariaDB it writes the values into the
    statement text, so the server works on one batch while the next is made); only one thread
    at a time may call ``write``."""
    table = m.Event.__table__
    connection = session.connection()
    inline = connection.dialect.name in ("mysql", "mariadb")
    insert_events = (InlineInsert if inline else RawInsert)(
        session, table, columns, text_columns=text_columns
    )
    media_insert = m.Media.__table__.insert()
    positions = api.store.next_stream_positions(session)

    def write(prepared) -> None:
        events, media_rows = prepared
        insert_events.write(events, positions)
        if media_rows:
            connection.execute(media_insert, media_rows)

    def prepare(batch):
        events, media_rows = batch
        return insert_events.prepare(events), media_rows

    write.prepare = prepare
    return write


class RawInsert:
    """A fast executemany into one table through the session's own connection (same
    transaction). Rows are tuples in ``columns`` order; the SQL is built once; bind processors
    run only where the dialect has one (e.g. datetimes as text on SQLite); ``text_columns``
    take the text the caller made (JSON text, ``YYYY-MM-DD HH:MM:SS.ffffff`` times) as they
    are. Table columns the caller does not give get their scalar default."""

    def __init__(self, session, table, columns, *, text_columns=("content", "original_content")):
        conn = session.connection()
        dialect = conn.dialect
        self.conn = conn
        given = list(columns)
        extra = [c for c in table.columns if c.name not in given]
        self.extra = tuple(
            c.default.arg
            if c.default is not None and getattr(c.default, "is_scalar", False)
            else None
            for c in extra
        )
        names = given + [c.name for c in extra]
        quote = dialect.identifier_preparer.quote
        mark = "?" if dialect.paramstyle == "qmark" else "%s"
        self.sql = (
            f"INSERT INTO {quote(table.name)} ({', '.join(quote(c) for c in names)}) "
            f"VALUES ({', '.join([mark] * len(names))})"
        )
        self.procs = []
        for i, name in enumerate(given):
            if name in text_columns:
                continue
            proc = _fast_processor(table.c[name].type.bind_processor(dialect))
            if proc is not None:
                self.procs.append((i, proc))
        # SQLite: many rows a statement, so the import's writer thread hands the GIL back once
        # per statement, not once per row (PyMySQL's executemany does the same on MariaDB)
        self.per = _rows_per_statement(conn, len(names)) if dialect.name == "sqlite" else 1
        row_marks = f"({', '.join([mark] * len(names))})"
        self.multi_sql = (
            self.sql.rpartition(" VALUES ")[0] + " VALUES " + ", ".join([row_marks] * self.per)
        )

    def __call__(self, rows: list[tuple]) -> None:
        if self.procs or self.extra:
            procs, extra = self.procs, self.extra
            converted = []
            for row in rows:
                if procs:
                    row = list(row)
                    for i, proc in procs:
                        value = row[i]
                        if value is not None:
                            row[i] = proc(value)
                    row = tuple(row)
                converted.append(row + extra if extra else row)
            rows = converted
        per = self.per
        full = len(rows) - len(rows) % per if per > 1 else 0
        if full:
            # each parameter set: ``per`` rows' values, one row after the other
            width = per * len(rows[0])
            flat = [value for row in rows[:full] for value in row]
            self.conn.exec_driver_sql(
                self.multi_sql, [tuple(flat[i : i + width]) for i in range(0, len(flat), width)]
            )
        if full < len(rows):
            self.conn.exec_driver_sql(self.sql, rows[full:])

    def prepare(self, rows: list[tuple]) -> list:
        """Rows without their last value, made ready for ``write`` (here: as they are)."""
        return rows

    def write(self, prepared: list, last) -> None:
        """Insert ``prepared`` rows, each completed with ``next(last)``."""
        self([row + (next(last),) for row in prepared])


class InlineInsert(RawInsert):
    """MariaDB: multi-row INSERTs with the values written into the statement, as PyMySQL's
    executemany writes them (``Connection.escape``; for printable ASCII text, such as the JSON
    the import stores, the same escapes made with ``str.replace``, many times faster than
    PyMySQL's per-character table), statements of at most PyMySQL's ``max_stmt_length``.
    ``prepare`` writes every row's values but the last, without the connection (the caller's
    thread, while the server works on the previous batch); ``write`` appends the last value and
    sends the statements. The rows stored are the same; an error names the statement with
    ``%s`` marks, never the values."""

    def __init__(self, session, table, columns, *, text_columns=("content", "original_content")):
        super().__init__(session, table, columns, text_columns=text_columns)
        import pymysql

        driver = self.conn.connection.driver_connection
        no_backslash = pymysql.constants.SERVER_STATUS.SERVER_STATUS_NO_BACKSLASH_ESCAPES
        self.escape = driver.escape
        self.replace_ok = not driver.server_status & no_backslash
        self.prefix = self.sql.rpartition(" VALUES ")[0] + " VALUES "
        self.limit = pymysql.cursors.Cursor.max_stmt_length
        self.suffix = "".join("," + self.escape(v) for v in self.extra) + ")"

    def _literal(self, value) -> str:
        kind = type(value)
        if kind is str:
            quoted = quoted_ascii(value) if self.replace_ok else None
            return quoted if quoted is not None else self.escape(value)
        if value is None:
            return "NULL"
        if kind is int:
            return str(value)  # PyMySQL's escape_int
        return self.escape(value)

    def prepare(self, rows: list[tuple]) -> list:
        literal, procs = self._literal, self.procs
        out = []
        for row in rows:
            if procs:
                row = list(row)
                for i, proc in procs:
                    if row[i] is not None:
                        row[i] = proc(row[i])
            out.append("(" + ",".join([literal(v) for v in row]) + ",")
        return out

    def write(self, prepared: list, last) -> None:
        parts: list[str] = []
        size = len(self.prefix)
        suffix, limit = self.suffix, self.limit
        for head in prepared:
            row = f"{head}{next(last)}{suffix}"
            length = len(row) if row.isascii() else len(row.encode("utf-8"))
            if parts and size + length + 1 > limit:
                self._send(parts)
                parts, size = [], len(self.prefix)
            parts.append(row)
            size += length + 1
        if parts:
            self._send(parts)

    def _send(self, rows: list[str]) -> None:
        from sqlalchemy.exc import StatementError

        try:
            self.conn.exec_driver_sql(
                self.prefix + ",".join(rows), execution_options={"no_parameters": True}
            )
        except StatementError as exc:
            exc.statement, exc.params = self.sql, None  # never the message texts
            raise


def quoted_ascii(value: str) -> str | None:
    """PyMySQL's ``Connection.escape`` of printable ASCII text (backslash escapes in force):
    only the backslash and both quotes are escaped, here with ``str.replace``. None for any
    other text."""
    if not (value.isascii() and value.isprintable()):
        return None
    return "'" + value.replace("\\", "\\\\").replace("'", "\\'").replace('"', '\\"') + "'"


ROWS_PER_STATEMENT = 100


def _rows_per_statement(conn, columns: int) -> int:
    """``ROWS_PER_STATEMENT``, or fewer where the SQLite build allows fewer bound variables."""
    import sqlite3

    raw = conn.connection.driver_connection
    try:
        limit = raw.getlimit(sqlite3.SQLITE_LIMIT_VARIABLE_NUMBER)
    except (AttributeError, sqlite3.Error):  # pragma: no cover - Python < 3.11
        limit = 999
    return max(1, min(ROWS_PER_STATEMENT, limit // columns))


_SAMPLES = (
    _dt.datetime(2026, 1, 2, 3, 4, 5, 6),
    _dt.datetime(1999, 12, 31, 23, 59, 59),
    _dt.datetime(2026, 11, 24, 0, 0, 0, 999999),
)


def _iso_space(value):
    return value.isoformat(" ", "microseconds")


def _fast_processor(proc):
    """Drop a bind processor that changes nothing the driver cares about (booleans on SQLite),
    and replace SQLite's datetime formatting by the C ``isoformat`` that writes the same text."""
    if proc is None:
        return None
    try:
        if proc(True) == 1 and proc(False) == 0:
            return None
    except Exception:  # not a boolean processor
        pass
    try:
        if all(proc(v) == _iso_space(v) for v in _SAMPLES):
            return _iso_space
    except Exception:  # not a datetime processor
        pass
    return proc
