"""A persistent, size-bounded cache of sentence embeddings, shared by processes and runs.

An embedding is a function of the model's weights, its tokenizer and configuration, the text
(with its prefix), the maximum length, the precision and the pooling; :class:`~repro.models.encoder.Encoder`
hashes all of that into a 32-byte key per text (:func:`entry_key`) and asks this cache before it
computes anything. So a text that an unchanged model embedded once, in any task, run or process,
is not embedded again: the evaluation of a task that differs from a finished one only in its
limit, or re-run after a code change that does not touch the encoder, costs search and metrics.

Storage is one SQLite database, ``$REPRO_HOME/embeddings/vectors.sqlite`` (WAL mode): the vector's
float32 bytes as stored, so a hit is bit-identical to the vector computed. SQLite's locking makes
two processes safe (writers wait for each other; readers never block). The cache is bounded: past
``max_bytes`` (``$REPRO_EMBEDDING_CACHE_MB``, default 1024 MB; 0 disables the cache) the least
recently used entries are evicted down to 90 % of the bound.

The same database remembers the SHA-256 of large files (model weights) by path, size, mtime and
inode (:func:`file_digest`), so a 0.5 GB weights file is hashed once, not in every process.

A cache that cannot be opened or written (a read-only or full ``$REPRO_HOME``) turns itself off
with one warning: lookups miss, stores are dropped, digests are computed; nothing fails because of it.
"""

from __future__ import annotations

import hashlib
import os
import sqlite3
import sys
import time
from collections.abc import Iterable, Sequence
from pathlib import Path

import numpy as np

from repro.cache import repro_home
from repro.hashing import sha256_file

DEFAULT_MAX_MB = 1024
# Bytes an entry costs besides its vector (key, timestamp, B-tree overhead): counted against the bound.
ENTRY_OVERHEAD = 64
# SQLite binds at most 32766 variables per statement (older builds 999): look keys up in chunks.
_CHUNK = 900
_SCHEMA = """
CREATE TABLE IF NOT EXISTS vectors (key BLOB PRIMARY KEY, vec BLOB NOT NULL, used INTEGER NOT NULL) WITHOUT ROWID;
CREATE INDEX IF NOT EXISTS vectors_used ON vectors (used);
CREATE TABLE IF NOT EXISTS meta (name TEXT PRIMARY KEY, value INTEGER NOT NULL);
CREATE TABLE IF NOT EXISTS digests (
    path TEXT PRIMARY KEY, size INTEGER NOT NULL, mtime_ns INTEGER NOT NULL, inode INTEGER NOT NULL, sha256 TEXT NOT NULL
);
INSERT OR IGNORE INTO meta (name, value) VALUES ('bytes', 0);
"""


def default_max_bytes() -> int:
    """The size bound from ``$REPRO_EMBEDDING_CACHE_MB`` (default 1024 MB; 0 = no cache)."""
    raw = os.environ.get("REPRO_EMBEDDING_CACHE_MB", "").strip()
    try:
        mb = float(raw) if raw else DEFAULT_MAX_MB
    except ValueError:
        from repro.errors import ReproError

        raise ReproError(f"REPRO_EMBEDDING_CACHE_MB must be a number of megabytes, got '{raw}'") from None
    return max(0, int(mb * 1024 * 1024))


def default_path() -> Path:
    """Where the cache lives: ``$REPRO_HOME/embeddings/vectors.sqlite``."""
    return repro_home() / "embeddings" / "vectors.sqlite"


def entry_key(fingerprint: str, text: str) -> bytes:
    """The key of ``text`` (prefix included) under an encoder ``fingerprint``: 32 bytes of SHA-256."""
    h = hashlib.sha256(fingerprint.encode())
    h.update(b"\x00")
    h.update(text.encode("utf-8", "surrogatepass"))
    return h.digest()


class EmbeddingCache:
    """Float32 vectors by 32-byte key, least recently used evicted past ``max_bytes``.

    Args:
        path: the database file (default :func:`default_path`); its folder is created.
        max_bytes: the bound (default :func:`default_max_bytes`); vectors plus
            :data:`ENTRY_OVERHEAD` bytes per entry are counted.
    """

    def __init__(self, path: Path | None = None, max_bytes: int | None = None) -> None:
        self.path = Path(path) if path is not None else default_path()
        self.max_bytes = default_max_bytes() if max_bytes is None else int(max_bytes)
        self._db: sqlite3.Connection | None = None
        self._last_used = 0
        self.off: str | None = None  # why the cache turned itself off (None: it works)

    def _turn_off(self, exc: BaseException) -> None:
        """Stop using the cache for this process, with one warning (a read-only or full $REPRO_HOME)."""
        if self.off is None:
            self.off = str(getattr(exc, "strerror", None) or exc)
            print(f"warning: embedding cache off: cannot use {self.path} ({self.off})", file=sys.stderr)
        try:
            self.close()
        except sqlite3.Error:
            self._db = None

    @property
    def db(self) -> sqlite3.Connection:
        """The connection, opened (and the schema created) on first use."""
        if self._db is None:
            self.path.parent.mkdir(parents=True, exist_ok=True)
            # isolation_level=None: transactions are explicit (BEGIN IMMEDIATE for every write),
            # so a writer holds the lock for one short transaction and never upgrades mid-way.
            db = sqlite3.connect(self.path, timeout=120, isolation_level=None)
            db.execute("PRAGMA busy_timeout = 120000")
            _set_wal(db)
            db.execute("PRAGMA synchronous = NORMAL")
            db.executescript(_SCHEMA)  # idempotent; a concurrent creator waits on busy_timeout
            self._db = db
        return self._db

    def close(self) -> None:
        """Close the connection (a later call reopens it)."""
        if self._db is not None:
            self._db.close()
            self._db = None

    def get(self, keys: Sequence[bytes]) -> dict[bytes, np.ndarray]:
        """The cached vectors among ``keys`` (float32, read-only arrays); hits become most recent."""
        if self.off is not None:
            return {}
        try:
            return self._get(keys)
        except (sqlite3.Error, OSError) as exc:
            self._turn_off(exc)
            return {}

    def _get(self, keys: Sequence[bytes]) -> dict[bytes, np.ndarray]:
        found: dict[bytes, np.ndarray] = {}
        unique = list(dict.fromkeys(keys))
        for start in range(0, len(unique), _CHUNK):
            chunk = unique[start : start + _CHUNK]
            marks = ",".join("?" * len(chunk))
            for key, blob in self.db.execute(f"SELECT key, vec FROM vectors WHERE key IN ({marks})", chunk):
                found[bytes(key)] = np.frombuffer(blob, dtype=np.float32)
        if found:
            now = self._now()
            with _write(self.db):
                self.db.executemany("UPDATE vectors SET used = ? WHERE key = ?", [(now, k) for k in found])
        return found

    def put(self, items: Iterable[tuple[bytes, np.ndarray]]) -> None:
        """Store vectors (as float32 bytes) and evict the least recently used past the bound."""
        if self.off is not None:
            return
        try:
            self._put(items)
        except (sqlite3.Error, OSError) as exc:
            self._turn_off(exc)

    def _put(self, items: Iterable[tuple[bytes, np.ndarray]]) -> None:
        rows = [(key, np.ascontiguousarray(vec, dtype=np.float32).tobytes()) for key, vec in items]
        if not rows:
            return
        now = self._now()
        with _write(self.db):
            added = 0
            for key, blob in rows:
                cursor = self.db.execute(
                    "INSERT OR IGNORE INTO vectors (key, vec, used) VALUES (?, ?, ?)", (key, blob, now)
                )
                if cursor.rowcount:
                    added += len(blob) + ENTRY_OVERHEAD
            total = self._add_bytes(added)
            if total > self.max_bytes:
                self._evict(total, int(self.max_bytes * 0.9))

    def _now(self) -> int:
        """A recency stamp: wall-clock nanoseconds (comparable across processes), strictly
        increasing within this process even when the clock is coarse."""
        self._last_used = max(time.time_ns(), self._last_used + 1)
        return self._last_used

    def _add_bytes(self, delta: int) -> int:
        self.db.execute("UPDATE meta SET value = value + ? WHERE name = 'bytes'", (delta,))
        return int(self.db.execute("SELECT value FROM meta WHERE name = 'bytes'").fetchone()[0])

    def _evict(self, total: int, target: int) -> None:
        """Delete the least recently used entries until at most ``target`` bytes remain (in a write)."""
        freed = 0
        while total - freed > target:
            victims = self.db.execute(
                "SELECT key, length(vec) FROM vectors ORDER BY used, key LIMIT ?", (_CHUNK,)
            ).fetchall()
            if not victims:
                break
            chosen = []
            for key, size in victims:
                chosen.append((key,))
                freed += size + ENTRY_OVERHEAD
                if total - freed <= target:
                    break
            self.db.executemany("DELETE FROM vectors WHERE key = ?", chosen)
        self._add_bytes(-freed)

    def stats(self) -> dict[str, int]:
        """Entries, counted bytes and the bound."""
        entries = int(self.db.execute("SELECT count(*) FROM vectors").fetchone()[0])
        used = int(self.db.execute("SELECT value FROM meta WHERE name = 'bytes'").fetchone()[0])
        return {"entries": entries, "bytes": used, "max_bytes": self.max_bytes}

    def clear(self) -> None:
        """Remove every vector (the file digests stay)."""
        with _write(self.db):
            self.db.execute("DELETE FROM vectors")
            self.db.execute("UPDATE meta SET value = 0 WHERE name = 'bytes'")

    def file_digest(self, path: Path) -> str:
        """SHA-256 of ``path``, remembered by (path, size, mtime, inode) so large files hash once."""
        if self.off is not None:
            return sha256_file(path)
        try:
            return self._file_digest(path)
        except (sqlite3.Error, OSError) as exc:
            if not Path(path).is_file():
                raise
            self._turn_off(exc)
            return sha256_file(path)

    def _file_digest(self, path: Path) -> str:
        path = Path(path).resolve()
        st = path.stat()
        row = self.db.execute(
            "SELECT sha256 FROM digests WHERE path = ? AND size = ? AND mtime_ns = ? AND inode = ?",
            (str(path), st.st_size, st.st_mtime_ns, st.st_ino),
        ).fetchone()
        if row:
            return str(row[0])
        digest = sha256_file(path)
        with _write(self.db):
            self.db.execute(
                "INSERT OR REPLACE INTO digests (path, size, mtime_ns, inode, sha256) VALUES (?, ?, ?, ?, ?)",
                (str(path), st.st_size, st.st_mtime_ns, st.st_ino, digest),
            )
        return digest


class _write:
    """``BEGIN IMMEDIATE`` ... ``COMMIT`` (``ROLLBACK`` on error): one short write transaction."""

    def __init__(self, db: sqlite3.Connection) -> None:
        self.db = db

    def __enter__(self) -> sqlite3.Connection:
        self.db.execute("BEGIN IMMEDIATE")
        return self.db

    def __exit__(self, exc_type: object, exc: object, tb: object) -> None:
        self.db.execute("COMMIT" if exc_type is None else "ROLLBACK")


_default: EmbeddingCache | None = None


def default_cache() -> EmbeddingCache | None:
    """The process's cache at :func:`default_path` (None when ``$REPRO_EMBEDDING_CACHE_MB`` is 0).

    Re-created when ``$REPRO_HOME`` or the bound changes (tests point them elsewhere).
    """
    global _default
    max_bytes = default_max_bytes()
    if max_bytes == 0:
        return None
    path = default_path()
    if _default is None or _default.path != path or _default.max_bytes != max_bytes:
        _default = EmbeddingCache(path, max_bytes)
    return _default


def _set_wal(db: sqlite3.Connection, seconds: float = 120.0) -> None:
    """Switch to WAL, retrying: SQLite answers a journal-mode change "database is locked" at once,
    without its busy handler, while another process opens or converts the same new file."""
    deadline = time.monotonic() + seconds
    while True:
        try:
            db.execute("PRAGMA journal_mode = WAL")
            return
        except sqlite3.OperationalError as exc:
            if "locked" not in str(exc) or time.monotonic() > deadline:
                raise
            time.sleep(0.05)
