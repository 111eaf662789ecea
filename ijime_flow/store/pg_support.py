"""What the PostgreSQL store needs around the driver: importing it, showing a URL or a driver's message
without the password, naming the server, and telling a lost connection from a refused statement.

Nothing here keeps state. ``redact_url`` is also what every other module uses to show a store target
(through :mod:`ijime_flow.store.urls`); it needs no driver.

The pool (``psycopg_pool``) logs through the stdlib loggers ``psycopg.pool`` and ``psycopg`` when a
connection fails (``error connecting in '<name>': <the driver's message>``). Its name is
:func:`server_of` (no password) and the driver's messages quote the host, port, role and database,
never the password; a URL the driver cannot parse — whose message could quote it — is refused by
the store before any pool is made. ``tests/test_postgres_read_only.py`` checks those logs.
"""

from __future__ import annotations

import re
import select
from typing import Any
from urllib.parse import unquote

from ..errors import StoreError

__all__ = ["check_url", "drivers", "is_lost", "missing_schemas", "pool_check", "redact_url", "scrub", "server_of"]


def drivers() -> tuple[Any, Any]:
    """``(psycopg, psycopg_pool)``, or a StoreError saying how to install them."""
    try:
        import psycopg
        import psycopg_pool
    except ImportError:
        raise StoreError("PostgreSQL には psycopg 3 と psycopg-pool が必要です / PostgreSQL needs psycopg 3 and"
                         " psycopg-pool: python -m pip install 'ijime-flow[postgres]'") from None
    return psycopg, psycopg_pool


_QUERY_PASSWORD = re.compile(r"(?i)([?&]password=)[^&#]*")
_DSN_PASSWORD = re.compile(r"(?i)(\bpassword\s*=\s*)('(?:[^'\\]|\\.)*'|\S*)")


def redact_url(url: str) -> str:
    """``url`` as it may be shown: its password (``user:secret@`` up to the last ``@``, so one holding
    ``@``, ``/`` or ``?`` is hidden whole; ``?password=``; ``password=`` of a ``key=value`` string) as ``***``."""
    text = str(url)
    if "://" not in text:
        return _DSN_PASSWORD.sub(r"\1***", text)
    scheme, rest = text.split("://", 1)
    if "@" in rest and ":" in rest.rsplit("@", 1)[0]:
        userinfo, host = rest.rsplit("@", 1)
        rest = f"{userinfo.split(':', 1)[0]}:***@{host}"
    return scheme + "://" + _QUERY_PASSWORD.sub(r"\1***", rest)


def scrub(said: Exception | str, url: str) -> str:
    """A driver's message (an error's first line) with the password of ``url`` replaced, should it quote it."""
    text = said if isinstance(said, str) else (str(said).strip().splitlines() or [type(said).__name__])[0]
    try:
        from psycopg.conninfo import conninfo_to_dict

        secret = str(conninfo_to_dict(url).get("password") or "")
    except Exception:  # an unreadable URL: what its authority holds
        userinfo = url.split("://", 1)[-1].rsplit("@", 1)[0] if "@" in url else ""
        secret = userinfo.split(":", 1)[1] if ":" in userinfo else ""
    for found in sorted({secret, unquote(secret)}, key=len, reverse=True):
        if len(found) >= 3:  # shorter ones would garble the text (and are no secret)
            text = text.replace(found, "***")
    return redact_url(text)


def check_url(url: str) -> None:
    """Refuse a URL whose user name or password holds a raw ``@``, ``/``, ``?`` or ``#``: the driver would
    read part of the password as the host or the database, and show it in messages and the pool's
    logs. Percent-encoded (``%40``), they are read as meant. A ``key=value`` string is not a URL."""
    if "://" not in url:
        return
    rest = url.split("://", 1)[1]
    cut = min((i for i in (rest.find(c) for c in "/?#") if i >= 0), default=len(rest))
    if rest.count("@", 0, cut) > 1 or "@" in rest[cut:]:
        raise StoreError("接続 URL の利用者名・パスワードにある @ / ? # は %40 %2F %3F %23 のように符号化してください"
                         f" / percent-encode '@', '/', '?' and '#' in the user name and password of {redact_url(url)}"
                         " (e.g. %40 for @), and in a query value")


def server_of(given: dict[str, Any]) -> str:
    """``host:port/database`` of parsed connection parameters, for messages."""
    host = given.get("host") or given.get("hostaddr") or "localhost (socket)"
    return f"{host}:{given.get('port') or 5432}/{given.get('dbname') or given.get('user') or ''}"


def pool_check(conn: Any) -> None:
    """The pool's check of a connection it gives out, without a round trip: an idle connection has
    nothing to read, unless the server said goodbye (a FATAL message: a terminated backend, a
    shutdown) or hung up. A dead one is closed, and the pool replaces it at once."""
    if not conn.closed and not select.select([conn.pgconn.socket], [], [], 0)[0]:
        return  # the usual case: nothing to read
    psycopg, _ = drivers()
    goodbye: list[str] = []
    handler = lambda diag: goodbye.append(diag.severity_nonlocalized or diag.severity or "")  # noqa: E731
    try:
        while not conn.closed and select.select([conn.pgconn.socket], [], [], 0)[0]:
            conn.add_notice_handler(handler)  # while idle, libpq hands the server's last words to these
            try:
                conn.pgconn.consume_input()
                conn.pgconn.is_busy()  # parses what came in
            finally:
                conn.remove_notice_handler(handler)
    except (OSError, ValueError, psycopg.Error):
        pass  # it is closed now
    if conn.closed or {"FATAL", "PANIC"} & set(goodbye):
        conn.close()
        raise psycopg.OperationalError("the server has closed this connection")


def is_lost(exc: Exception, conn: Any) -> bool:
    """A failure of the connection (ambiguous for a write), not a statement the server refused and rolled
    back: no SQLSTATE (the driver's own), a connection exception (08), the server going down (57P0x)."""
    state = str(getattr(exc, "sqlstate", None) or "")
    return bool(conn.closed or not state or state.startswith("08") or state in ("57P01", "57P02", "57P03"))


def missing_schemas(conn: Any) -> list[str]:
    """The schemas named in the connection's search_path that do not exist."""
    try:
        path, existing = conn.execute("SELECT current_setting('search_path'), current_schemas(false)").fetchone()
    except Exception:  # the connection cannot tell: the message names none
        return []
    names = [name.strip().strip('"') for name in str(path).split(",")]
    return [name for name in names if name and name != "$user" and name not in existing]
