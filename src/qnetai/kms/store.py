"""The key store of the KMS: SQLite (WAL) or PostgreSQL, one transaction per API call.

``KeyStore(path)`` opens an SQLite file (or ``":memory:"``); ``KeyStore(url)`` with a
``postgresql://`` (or ``postgres://``) connection URL opens PostgreSQL through psycopg 3
(``[service]`` extra). The schema, the transactions and the invariants are the same: every
call runs in one transaction (SQLite ``BEGIN IMMEDIATE``; PostgreSQL a transaction that
first takes a transaction-scoped advisory lock, so writers are serialised across processes
as SQLite's write lock does), committed before the response is written.

Tables:

- ``pools``: one row per unordered SAE pair: the bits of shared key available to it.
  ``fill_bps`` (simulated key rate times the time scale) is added lazily, from the wall
  clock, inside each transaction; the accounting is exact in integers,
  ``generated_bits = consumed_bits + level_bits + overflow_bits`` (:meth:`KeyStore.audit`).
- ``keys``: one row per key handed out (UUID ``key_id``, master SAE, size, material).
- ``deliveries``: one row per addressee of a key (the master, the slave and any additional
  slaves) with the time it was delivered (NULL until then).

``enc_keys`` draws the bits from the pools, inserts the keys, marks them delivered to the
master and commits before the response is written; ``dec_keys`` marks the slave's delivery
and, when every addressee has its copy, erases the key material (``key`` set to NULL), in
the same transaction. A ``kill -9`` at any moment leaves the database at a transaction
boundary, so no key is lost from the accounting or delivered twice. Delivery is at most
once: a key committed as delivered whose response was cut by a crash is not sent again.

Example:
    >>> store = KeyStore(":memory:")
    >>> store.configure_pools({("A", "B"): 1e6}, capacity_bits=4096, initial_bits=1024)
    >>> keys = store.take_keys("A", ["B"], number=2, size_bits=256)
    >>> [len(k) for _, k in keys], store.audit()["ok"]
    ([32, 32], True)
"""

from __future__ import annotations

import math
import secrets
import sqlite3
import threading
import time
import uuid
from collections.abc import Callable, Iterable, Mapping, Sequence
from typing import Any

__all__ = ["KeyStore", "NotEnoughKeyError", "UnknownKeyError", "is_postgres_url"]

# {real} / {int} / {blob}: 64-bit float, 64-bit integer and bytes in each dialect (SQLite's
# REAL and INTEGER are 64-bit; PostgreSQL's are 32-bit, hence DOUBLE PRECISION and BIGINT).
_SCHEMA = """
CREATE TABLE IF NOT EXISTS pools (
    sae_a TEXT NOT NULL, sae_b TEXT NOT NULL,
    rate_bps {real} NOT NULL, fill_bps {real} NOT NULL, capacity_bits {int} NOT NULL,
    level_bits {int} NOT NULL, generated_bits {int} NOT NULL,
    consumed_bits {int} NOT NULL, overflow_bits {int} NOT NULL,
    carry_bits {real} NOT NULL, updated_s {real} NOT NULL,
    PRIMARY KEY (sae_a, sae_b), CHECK (sae_a < sae_b)
);
CREATE TABLE IF NOT EXISTS keys (
    key_id TEXT PRIMARY KEY, master TEXT NOT NULL, size_bits {int} NOT NULL,
    key {blob}, created_s {real} NOT NULL
);
CREATE TABLE IF NOT EXISTS deliveries (
    key_id TEXT NOT NULL REFERENCES keys(key_id), sae TEXT NOT NULL,
    role TEXT NOT NULL CHECK (role IN ('master', 'slave')), delivered_s {real},
    PRIMARY KEY (key_id, sae)
);
"""
_SQLITE_TYPES = {"real": "REAL", "int": "INTEGER", "blob": "BLOB"}
_POSTGRES_TYPES = {"real": "DOUBLE PRECISION", "int": "BIGINT", "blob": "BYTEA"}
#: Key of the PostgreSQL advisory lock that serialises the store's transactions.
PG_LOCK_KEY = 0x514E4554_4B4D53  # "QNETKMS"


def is_postgres_url(target: str) -> bool:
    """True if ``target`` is a PostgreSQL connection URL rather than an SQLite path."""
    return target.startswith(("postgresql://", "postgres://"))


class _Db:
    """One connection behind the SQLite API the store uses (``?`` placeholders)."""

    def __init__(self, target: str, synchronous: str) -> None:
        self.postgres = is_postgres_url(target)
        if self.postgres:
            from qnetai._optional import require

            psycopg = require("psycopg", extra="service")
            self._conn: Any = psycopg.connect(target, autocommit=True)
            # Each API call commits before its response; synchronous_commit=on (the
            # default) makes the commit durable, "off" resembles SQLite's NORMAL.
            on = "on" if synchronous.upper() != "NORMAL" else "off"
            self._conn.execute(f"SET synchronous_commit = {on}")
            with self._conn.transaction():
                self._conn.execute("SELECT pg_advisory_xact_lock(%s)", (PG_LOCK_KEY,))
                for stmt in _SCHEMA.format(**_POSTGRES_TYPES).split(";"):
                    if stmt.strip():
                        self._conn.execute(stmt)
        else:
            self._conn = sqlite3.connect(target, isolation_level=None, check_same_thread=False)
            self._conn.execute("PRAGMA journal_mode=WAL")
            self._conn.execute(f"PRAGMA synchronous={synchronous.upper()}")
            self._conn.execute("PRAGMA foreign_keys=ON")
            self._conn.executescript(_SCHEMA.format(**_SQLITE_TYPES))

    def _sql(self, sql: str) -> str:
        return sql.replace("?", "%s") if self.postgres else sql

    def execute(self, sql: str, params: Sequence[Any] = ()) -> Any:
        """Run one statement; the cursor (``fetchone``, ``fetchall``, iteration)."""
        return self._conn.execute(self._sql(sql), tuple(params))

    def executemany(self, sql: str, rows: Sequence[Sequence[Any]]) -> None:
        """Run one statement for each row of parameters."""
        if self.postgres:
            with self._conn.cursor() as cur:
                cur.executemany(self._sql(sql), rows)
        else:
            self._conn.executemany(sql, rows)

    def begin(self) -> None:
        """Start a write transaction that excludes every other writer."""
        if self.postgres:
            self._conn.execute("BEGIN")
            self._conn.execute("SELECT pg_advisory_xact_lock(%s)", (PG_LOCK_KEY,))
        else:
            self._conn.execute("BEGIN IMMEDIATE")

    def close(self) -> None:
        """Close the connection."""
        self._conn.close()


class NotEnoughKeyError(Exception):
    """A pool holds fewer bits than a request needs (the pair and the shortfall)."""


class UnknownKeyError(Exception):
    """A key_ID that is not waiting for this SAE (unknown, addressed to others, or taken)."""


def _pair(a: str, b: str) -> tuple[str, str]:
    return (a, b) if a < b else (b, a)


class KeyStore:
    """Pools, keys and deliveries in one database (SQLite file or PostgreSQL URL).

    ``path``: an SQLite file, ``":memory:"``, or a PostgreSQL connection URL
    (``postgresql://user@host/db``, ``postgresql:///db?host=/socket/dir``).

    ``synchronous`` is SQLite's ``PRAGMA synchronous``: ``"FULL"`` (default) makes every
    commit durable against power loss too; ``"NORMAL"`` in WAL mode is durable against a
    crash of the process (``kill -9``) but may lose the last commits on power loss. With
    PostgreSQL, ``"NORMAL"`` sets ``synchronous_commit = off`` (same trade-off), else on.
    ``clock`` returns wall-clock seconds (tests may pass their own).
    """

    def __init__(
        self,
        path: str,
        *,
        synchronous: str = "FULL",
        clock: Callable[[], float] = time.time,
    ) -> None:
        if synchronous.upper() not in {"FULL", "NORMAL", "EXTRA"}:
            raise ValueError(f"synchronous must be FULL, NORMAL or EXTRA (got {synchronous!r})")
        self.path = path
        self._clock = clock
        self._lock = threading.Lock()
        self._db = _Db(path, synchronous)

    @property
    def backend(self) -> str:
        """``"postgresql"`` or ``"sqlite"``."""
        return "postgresql" if self._db.postgres else "sqlite"

    def close(self) -> None:
        """Close the database connection."""
        with self._lock:
            self._db.close()

    # ------------------------------------------------------------------ transactions

    def _transaction(self, work: Callable[[_Db, float], Any]) -> Any:
        """Run ``work(db, now)`` in one exclusive write transaction (rolled back on error)."""
        with self._lock:
            db = self._db
            db.begin()
            try:
                out = work(db, self._clock())
            except BaseException:
                db.execute("ROLLBACK")
                raise
            db.execute("COMMIT")
            return out

    @staticmethod
    def _refill(db: _Db, pair: tuple[str, str], now: float) -> tuple[int, int]:
        """Add the key produced since the last update to ``pair``; (level, capacity) bits."""
        row = db.execute(
            "SELECT fill_bps, capacity_bits, level_bits, carry_bits, updated_s FROM pools "
            "WHERE sae_a=? AND sae_b=?",
            pair,
        ).fetchone()
        if row is None:
            raise NotEnoughKeyError(f"no key pool between {pair[0]!r} and {pair[1]!r}")
        fill_bps, cap, level, carry, updated = row
        produced = fill_bps * max(0.0, now - updated) + carry
        whole = math.floor(produced) if math.isfinite(produced) else cap
        carry = produced - whole if math.isfinite(produced) else 0.0
        new_level = min(cap, level + whole)
        db.execute(
            "UPDATE pools SET level_bits=?, generated_bits=generated_bits+?, "
            "overflow_bits=overflow_bits+?, carry_bits=?, updated_s=? WHERE sae_a=? AND sae_b=?",
            (new_level, whole, level + whole - new_level, carry, now, *pair),
        )
        return new_level, cap

    # ------------------------------------------------------------------ configuration

    def configure_pools(
        self,
        rates_bps: Mapping[tuple[str, str], float],
        *,
        capacity_bits: int,
        initial_bits: int = 0,
        time_scale: float = 1.0,
    ) -> None:
        """Create (or update the rate and capacity of) the pool of every SAE pair.

        ``rates_bps`` maps SAE pairs to their secret-key rate in simulated bits per second;
        pools fill at ``rate * time_scale`` bits per wall-clock second. Existing pools keep
        their level and counters (a restart continues the accounting).
        """
        if capacity_bits < 1 or not 0 <= initial_bits <= capacity_bits:
            raise ValueError(
                f"need 1 <= capacity and 0 <= initial <= capacity (got "
                f"{capacity_bits}, {initial_bits})"
            )
        if not time_scale >= 0:
            raise ValueError(f"time_scale must be >= 0 (got {time_scale})")

        def work(db: _Db, now: float) -> None:
            for (a, b), rate in rates_bps.items():
                pair = _pair(a, b)
                if pair[0] == pair[1] or not rate >= 0:
                    raise ValueError(f"bad pool {pair} with rate {rate}")
                fill = float(rate) * time_scale
                exists = db.execute(
                    "SELECT 1 FROM pools WHERE sae_a=? AND sae_b=?", pair
                ).fetchone()
                if exists:
                    self._refill(db, pair, now)
                    db.execute(
                        "UPDATE pools SET rate_bps=?, fill_bps=?, capacity_bits=? "
                        "WHERE sae_a=? AND sae_b=?",
                        (float(rate), fill, capacity_bits, *pair),
                    )
                else:
                    db.execute(
                        "INSERT INTO pools VALUES (?,?,?,?,?,?,?,0,0,0.0,?)",
                        (*pair, float(rate), fill, capacity_bits, initial_bits, initial_bits, now),
                    )

        self._transaction(work)

    # ------------------------------------------------------------------ the API's operations

    def pool_status(self, a: str, b: str) -> tuple[int, int]:
        """(level, capacity) in bits of the pool of SAEs ``a`` and ``b``, refilled to now."""
        return self._transaction(lambda db, now: self._refill(db, _pair(a, b), now))

    def take_keys(
        self, master: str, slaves: Sequence[str], *, number: int, size_bits: int
    ) -> list[tuple[str, bytes]]:
        """Draw ``number`` keys of ``size_bits`` for ``master`` and every SAE of ``slaves``.

        All or nothing: every pool (master, slave) must hold ``number * size_bits`` bits,
        else :class:`NotEnoughKeyError` and nothing changes. The keys are recorded as
        delivered to the master. Returns ``(key_ID, key material)`` pairs; the material
        comes from :func:`secrets.token_bytes`.
        """
        if number < 1 or size_bits < 8 or size_bits % 8:
            raise ValueError(
                f"need number >= 1 and size a positive multiple of 8 (got {number}, {size_bits})"
            )
        need = number * size_bits

        def work(db: _Db, now: float) -> list[tuple[str, bytes]]:
            for slave in slaves:
                pair = _pair(master, slave)
                level, _ = self._refill(db, pair, now)
                if level < need:
                    raise NotEnoughKeyError(
                        f"pool {master}-{slave} holds {level} bits, the request needs {need}"
                    )
                db.execute(
                    "UPDATE pools SET level_bits=level_bits-?, consumed_bits=consumed_bits+? "
                    "WHERE sae_a=? AND sae_b=?",
                    (need, need, *pair),
                )
            out = []
            for _ in range(number):
                key_id, material = str(uuid.uuid4()), secrets.token_bytes(size_bits // 8)
                db.execute(
                    "INSERT INTO keys VALUES (?,?,?,?,?)",
                    (key_id, master, size_bits, material, now),
                )
                rows: list[tuple[str, str, str, float | None]] = [(key_id, master, "master", now)]
                rows += [(key_id, s, "slave", None) for s in slaves]
                db.executemany("INSERT INTO deliveries VALUES (?,?,?,?)", rows)
                out.append((key_id, material))
            return out

        return self._transaction(work)

    def collect_keys(
        self, slave: str, master: str, key_ids: Iterable[str]
    ) -> list[tuple[str, bytes]]:
        """Deliver the keys ``key_ids`` of ``master`` to ``slave``, each once.

        All or nothing: every key must have been issued by ``master`` with ``slave`` as an
        addressee and not yet delivered to it, else :class:`UnknownKeyError` (which names no
        other SAE) and nothing changes. Key material is erased once every addressee has it.
        """
        ids = list(key_ids)
        if len(set(ids)) != len(ids):
            raise UnknownKeyError("a key_ID is repeated in the request")

        def work(db: _Db, now: float) -> list[tuple[str, bytes]]:
            out = []
            for key_id in ids:
                row = db.execute(
                    "SELECT k.key FROM keys k JOIN deliveries d ON d.key_id = k.key_id "
                    "WHERE k.key_id=? AND k.master=? AND d.sae=? AND d.role='slave' "
                    "AND d.delivered_s IS NULL AND k.key IS NOT NULL",
                    (key_id, master, slave),
                ).fetchone()
                if row is None:
                    raise UnknownKeyError(f"key_ID {key_id} not found")
                db.execute(
                    "UPDATE deliveries SET delivered_s=? WHERE key_id=? AND sae=?",
                    (now, key_id, slave),
                )
                out.append((key_id, bytes(row[0])))
                waiting = db.execute(
                    "SELECT COUNT(*) FROM deliveries WHERE key_id=? AND delivered_s IS NULL",
                    (key_id,),
                ).fetchone()[0]
                if waiting == 0:
                    db.execute("UPDATE keys SET key=NULL WHERE key_id=?", (key_id,))
            return out

        return self._transaction(work)

    # ------------------------------------------------------------------ invariants

    def audit(self) -> dict[str, Any]:
        """Check the store's invariants; a dict of counts and booleans, ``ok`` = all hold.

        - ``pools_conserved``: generated = consumed + level + overflow in every pool;
        - ``consumed_matches_keys``: each pool's consumed bits = the sizes of the keys
          issued between its two SAEs (a multicast key counts once per slave);
        - ``one_master_each``: every key has exactly one master delivery, made at issue;
        - ``material_iff_waiting``: a key keeps its material iff some addressee waits,
          and the material has the key's size.
        """
        return self._transaction(lambda db, _now: self._audit(db))

    @staticmethod
    def _audit(db: _Db) -> dict[str, Any]:
        pools = db.execute(
            "SELECT sae_a, sae_b, generated_bits, consumed_bits, level_bits, overflow_bits "
            "FROM pools"
        ).fetchall()
        conserved = all(g == c + lv + o for _, _, g, c, lv, o in pools)
        used: dict[tuple[str, str], int] = {}
        for master, slave, size in db.execute(
            "SELECT k.master, d.sae, k.size_bits FROM keys k JOIN deliveries d "
            "ON d.key_id = k.key_id WHERE d.role='slave'"
        ):
            p = _pair(master, slave)
            used[p] = used.get(p, 0) + size
        consumed_ok = all(used.get((a, b), 0) == c for a, b, _, c, _, _ in pools) and set(used) <= {
            (a, b) for a, b, *_ in pools
        }
        bad_master = db.execute(
            "SELECT COUNT(*) FROM keys k WHERE (SELECT COUNT(*) FROM deliveries d WHERE "
            "d.key_id=k.key_id AND d.role='master' AND d.sae=k.master "
            "AND d.delivered_s IS NOT NULL) != 1 OR (SELECT COUNT(*) FROM deliveries d "
            "WHERE d.key_id=k.key_id AND d.role='master') != 1"
        ).fetchone()[0]
        bad_material = db.execute(
            "SELECT COUNT(*) FROM keys k WHERE "
            "(k.key IS NOT NULL) != EXISTS (SELECT 1 FROM deliveries d WHERE "
            "d.key_id=k.key_id AND d.delivered_s IS NULL) "
            "OR (k.key IS NOT NULL AND length(k.key) * 8 != k.size_bits)"
        ).fetchone()[0]
        n_keys = db.execute("SELECT COUNT(*) FROM keys").fetchone()[0]
        waiting = db.execute(
            "SELECT COUNT(*) FROM deliveries WHERE delivered_s IS NULL"
        ).fetchone()[0]
        result = {
            "pools": len(pools),
            "keys": n_keys,
            "deliveries_waiting": waiting,
            "pools_conserved": conserved,
            "consumed_matches_keys": consumed_ok,
            "one_master_each": bad_master == 0,
            "material_iff_waiting": bad_material == 0,
        }
        result["ok"] = all(v for k, v in result.items() if isinstance(v, bool))
        return result
