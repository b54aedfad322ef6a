import time

import pytest

from qnetai.kms.store import KeyStore, NotEnoughKeyError, UnknownKeyError


class Clock:
    def __init__(self) -> None:
        self.t = 1000.0

    def __call__(self) -> float:
        return self.t


def make(target: str, rate: float = 1000.0, cap: int = 10_000, init: int = 0, scale: float = 1.0):
    clock = Clock()
    store = KeyStore(target, clock=clock)
    store.configure_pools(
        {("A", "B"): rate, ("A", "C"): rate, ("B", "C"): rate},
        capacity_bits=cap,
        initial_bits=init,
        time_scale=scale,
    )
    return store, clock


def test_pool_fills_at_rate_times_scale_and_caps(db_target):
    store, clock = make(db_target, rate=1000.0, scale=2.5)
    assert store.pool_status("A", "B") == (0, 10_000)
    clock.t += 1.25
    assert store.pool_status("B", "A") == (3125, 10_000)  # unordered pair
    for _ in range(4):  # 0.61 bit each: the fractions are carried, not lost
        clock.t += 2.0**-12
        store.pool_status("A", "B")
    assert store.pool_status("A", "B")[0] == 3127
    clock.t += 100.0
    assert store.pool_status("A", "B") == (10_000, 10_000)
    assert store.audit()["ok"]


def test_dry_pool_refuses_all_or_nothing(db_target):
    store, _clock = make(db_target, init=1000)
    with pytest.raises(NotEnoughKeyError):
        store.take_keys("A", ["B", "C"], number=5, size_bits=256)  # 1280 > 1000
    assert store.pool_status("A", "B")[0] == 1000 and store.pool_status("A", "C")[0] == 1000
    keys = store.take_keys("A", ["B", "C"], number=3, size_bits=256)
    assert store.pool_status("A", "B")[0] == 232 and store.pool_status("A", "C")[0] == 232
    assert len({k for k, _ in keys}) == 3 and all(len(m) == 32 for _, m in keys)
    assert store.audit()["ok"]


def test_each_addressee_gets_a_key_once_and_nobody_else(db_target):
    store, _ = make(db_target, init=5000)
    ((kid, material),) = store.take_keys("A", ["B", "C"], number=1, size_bits=128)
    for intruder, master in [("A", "A"), ("C", "B"), ("B", "C")]:
        with pytest.raises(UnknownKeyError):
            store.collect_keys(intruder, master, [kid])
    assert store.collect_keys("B", "A", [kid]) == [(kid, material)]
    with pytest.raises(UnknownKeyError):
        store.collect_keys("B", "A", [kid])
    assert store.audit()["deliveries_waiting"] == 1
    assert store.collect_keys("C", "A", [kid]) == [(kid, material)]
    audit = store.audit()
    assert audit["ok"] and audit["deliveries_waiting"] == 0
    row = store._db.execute("SELECT key FROM keys WHERE key_id=?", (kid,)).fetchone()
    assert row[0] is None  # material erased once everyone has it


def test_backend_follows_the_target(db_target):
    store = KeyStore(db_target)
    want = "postgresql" if db_target.startswith("postgresql://") else "sqlite"
    assert store.backend == want
    # 64-bit counters and double-precision clocks in both dialects (PostgreSQL's INTEGER
    # and REAL are 32-bit: a 1.7e9 s timestamp in float4 would be off by up to 64 s)
    before = time.time()
    store.configure_pools({("A", "B"): 0.0}, capacity_bits=2**40, initial_bits=2**33)
    after = time.time()
    (updated,) = store._db.execute("SELECT updated_s FROM pools").fetchone()
    assert before <= updated <= after
    assert store.pool_status("A", "B") == (2**33, 2**40)
    store.close()


def test_collect_is_all_or_nothing(db_target):
    store, _ = make(db_target, init=5000)
    (k1, _), (k2, _) = store.take_keys("A", ["B"], number=2, size_bits=64)
    with pytest.raises(UnknownKeyError):
        store.collect_keys("B", "A", [k1, "nope"])
    with pytest.raises(UnknownKeyError):
        store.collect_keys("B", "A", [k1, k1])
    assert [k for k, _ in store.collect_keys("B", "A", [k2, k1])] == [k2, k1]


def test_state_survives_reopen(db_target):
    path = db_target
    store = KeyStore(path)
    store.configure_pools({("A", "B"): 0.0}, capacity_bits=4096, initial_bits=4096)
    ((kid, material),) = store.take_keys("A", ["B"], number=1, size_bits=256)
    store.close()
    again = KeyStore(path)
    again.configure_pools({("A", "B"): 0.0}, capacity_bits=4096, initial_bits=4096)
    assert again.pool_status("A", "B")[0] == 4096 - 256  # level kept, not reset
    assert again.collect_keys("B", "A", [kid]) == [(kid, material)]
    assert again.audit()["ok"]
