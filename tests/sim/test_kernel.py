import math

import pytest

from qnetai.errors import InputError
from qnetai.sim.kernel import Kernel


def test_time_priority_then_fifo_order():
    k = Kernel()
    seen = []
    k.schedule(1.0, seen.append, "late-low-prio", priority=1)
    k.schedule(1.0, seen.append, "first")
    k.schedule(1.0, seen.append, "second")
    k.schedule(0.5, seen.append, "earliest")
    k.run()
    assert seen == ["earliest", "first", "second", "late-low-prio"]
    assert k.now == 1.0 and k.events_processed == 4


def test_cancel_is_lazy_and_skipped():
    k = Kernel()
    seen = []
    handles = [k.schedule(float(i), seen.append, i) for i in range(200)]
    for h in handles[::2]:
        k.cancel(h)
    assert len(k) == 100
    k.run()
    assert seen == list(range(1, 200, 2))
    assert k.events_processed == 100


def test_run_until_stops_and_sets_clock():
    k = Kernel()
    seen = []
    k.schedule(1.0, seen.append, 1)
    k.schedule(3.0, seen.append, 3)
    k.run(until=2.0)
    assert seen == [1] and k.now == 2.0
    assert k.peek() == 3.0
    k.run()
    assert seen == [1, 3] and k.peek() == math.inf


def test_events_scheduled_from_callbacks_and_step():
    k = Kernel()
    seen = []

    def tick(n):
        seen.append((k.now, n))
        if n < 3:
            k.schedule(k.now + 0.5, tick, n + 1)

    k.schedule(0.0, tick, 0)
    while k.step():
        pass
    assert seen == [(0.0, 0), (0.5, 1), (1.0, 2), (1.5, 3)]


def test_no_scheduling_in_the_past():
    k = Kernel(start_s=1.0)
    with pytest.raises(InputError, match="time_s must be >= now"):
        k.schedule(0.5, print)


def test_compaction_keeps_live_events():
    k = Kernel()
    seen = []
    live = []
    for i in range(1000):
        h = k.schedule(float(i), seen.append, i)
        if i % 10:
            k.cancel(h)
        else:
            live.append(i)
    assert len(k._heap) < 1000  # compacted
    k.run()
    assert seen == live
