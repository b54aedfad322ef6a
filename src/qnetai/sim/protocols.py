"""The engine's entanglement model: conventions, and the components that implement it.

Conventions (the engine's model; they reduce to :mod:`qnetai.sim.chain` for zero-length links,
zero classical delay, no purification and depolarising memories):

* **Memory noise.** Each memory qubit at node ``x`` depolarises at rate ``1 / (2 t_coh_x)``; on a
  Bell-diagonal pair one-qubit depolarising acts like two-qubit depolarising, so a pair stored
  between ``a`` and ``b`` keeps ``e = exp(-dt (1/(2 t_coh_a) + 1/(2 t_coh_b)))`` of its state —
  ``exp(-dt / t_coh)`` for equal memories: one factor per *pair*, whatever its length, as in the
  chain model and :func:`qnetai.physics.depolarise`. A node with ``t1_s``/``t2_s`` uses T1/T2
  noise on its half instead (its ``t_coh_s`` is then ignored); both halves' channels are
  applied together, exactly, and twirled (:func:`qnetai.physics.scalar.memory_noise`).
  Decoherence is applied lazily, when a pair is touched (the state is twirled back to
  Bell-diagonal form at each touch).
* **Memories.** A request reserves ``memories = m`` memory slots at each end node and on each
  side of every intermediate node (a slot is one qubit, two with purification). With
  ``m = 1``, one pair in flight (no pipelining): a link regenerates only after the pair
  containing it was delivered or lost, as in the chain model. With ``m > 1`` (pooled, as
  SeQUeNCe's ``memo_size``), each link runs one generation process per free slot pair and a
  slot is free again as soon as its pair is swapped, delivered, cut off or known to be dead.
  This is the only difference (:mod:`qnetai.sim.release`).
* **Swapping.** ``swap_asap``: a node swaps as soon as it holds two pairs of the request, without
  waiting to hear about swaps elsewhere. ``nested``: node ``k`` swaps only the two pairs that
  span exactly its half-spans of a balanced binary tree (doubling for 2^n segments). A swap
  fails with probability ``1 - swap_success_probability`` and destroys both pairs; pairs that
  are merged with a destroyed pair before the news arrives are destroyed too (a run with one
  failed swap is lost entirely). Nodes hear about a swap at ``k`` after the classical delay
  ``distance / speed + processing_delay`` along the path; lost segments restart when both
  their end nodes know (``m = 1``; pooled memories are freed as above). With pooled memories
  a ``nested`` node uses a swapped pair only once it has heard of every swap inside it
  (:mod:`qnetai.sim.schedules`). With ``operations.swapping.confirm`` a node first claims the
  two pairs and asks both far ends whether they still hold them, and swaps when both replies
  are back (one round trip to the farther partner); a refusal (pair cut off, or its far end
  heard of a failed swap inside it) frees the refused pair's memory and returns the other
  pair to the stores (``docs/protocols.md``).
* **Delivery.** The end-to-end pair is delivered when both end nodes know every swap in it;
  it decoheres until then. Below the request's ``min_fidelity`` it is discarded (counted)
  and the request tries again; all its segments restart at that time (``m = 1``; pooled:
  the two end memories are free).
* **Cut-off.** A pair (elementary, purified or swapped) is discarded when
  ``now - gen > cutoff_s``, ``gen`` being the generation (loading) time of its *oldest*
  elementary link, exactly as in :mod:`qnetai.sim.chain`; at equal times links, swaps and
  deliveries come first (``cutoff_s`` gets a 1e-9 relative tolerance). Its segments restart
  when they hear of it from the nearer end (``m = 1``; pooled: its end memories are free).
* **Purification** (entanglement pumping): a generation process keeps one pair and generates
  a second on the same slot (2 memory qubits per slot), for any ``m``; BBPSSW/DEJMPS is
  applied and the outcome is known after the classical round trip of the link. ``rounds``
  successful rounds make the pair ready for swapping; a failure discards both pairs and the
  process starts over.

Components (each receives the explicit :class:`qnetai.sim.context.Context`):

* :mod:`qnetai.sim.generation`: generation processes and purification of elementary links;
* :mod:`qnetai.sim.swapping`: storage, swapping, news of failures, cut-offs, delivery;
* :mod:`qnetai.sim.schedules`: which pairs a node swaps (swap-asap, nested);
* :mod:`qnetai.sim.release`: what a released memory does (one pair in flight, pooled);
* :mod:`qnetai.sim.state`: the records (routes, requests, pairs, reservations).

Example:
    >>> P_GEN < P_DELIVER < P_DEAD < P_CUTOFF < P_RESTART < P_ARRIVAL < P_TIMEOUT
    True
"""

from __future__ import annotations

from qnetai.sim.context import (
    P_ARRIVAL,
    P_CUTOFF,
    P_DEAD,
    P_DELIVER,
    P_GEN,
    P_RESTART,
    P_TIMEOUT,
)

__all__ = ["P_ARRIVAL", "P_CUTOFF", "P_DEAD", "P_DELIVER", "P_GEN", "P_RESTART", "P_TIMEOUT"]
