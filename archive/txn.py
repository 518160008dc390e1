"""Transactions and single-row reads on the archive connection.

A module of its own because both the store and the search index write through
it, and the store imports the search index.
"""

from __future__ import annotations

import contextlib
from collections.abc import Iterable, Iterator
from typing import Any

import sqlite_utils


@contextlib.contextmanager
def write_txn(db: sqlite_utils.Database) -> Iterator[None]:
    """One write transaction that takes the write lock up front (BEGIN IMMEDIATE).

    Python's implicit (deferred) transactions can read first and then fail at
    once with "database is locked" when they try to write while another
    connection (the translation cache's worker thread) holds or just released
    the lock: SQLite does not wait for a lock upgrade. An immediate
    transaction waits its turn through the busy timeout. Nested calls join the
    outer transaction; sqlite-utils' own ``atomic()`` inside becomes a savepoint.
    """
    conn = db.conn
    if conn.in_transaction:
        yield
        return
    conn.execute("BEGIN IMMEDIATE")
    try:
        yield
    except BaseException:
        conn.rollback()
        raise
    else:
        conn.commit()


def first_row(db: sqlite_utils.Database, sql: str, params: Iterable[Any] = ()) -> tuple[Any, ...] | None:
    """The first row of a query, with the statement finished.

    ``cursor.fetchone()`` leaves the statement open, and with it a read
    transaction: this connection's next write then fails at once with
    "database is locked" (a stale WAL snapshot) whenever another connection,
    such as the translation cache's, wrote in between.
    """
    rows = db.execute(sql, list(params)).fetchall()
    return rows[0] if rows else None
