"""The running network behind the KMS and the operator dashboard.

:class:`LiveNetwork` holds one run of the scenario (:func:`qnetai.facade.run_scenario`: the
engine, then the key network), the key store whose pools that run's link rates fill, and the
state that changes while the service runs:

- a QBER monitor per QKD link: :meth:`LiveNetwork.monitor_step` simulates one block of
  pulses per link with the project's pulse simulator and reads its telemetry
  (:func:`qnetai.qkd.monitoring.labelled_block_features`, signal Z-basis QBER); a link whose
  QBER exceeds ``qber_abort`` (the textbook 11 % BB84 rule) raises an alert and is aborted:
  its key rate drops to 0 and the SAE pairs routed over it are re-routed or stop filling
  (:meth:`KeyStore.configure_pools` keeps the accounting exact). A clean block restores it;
- eavesdroppers (:meth:`LiveNetwork.set_eavesdropper`): intercept-resend on a fraction of
  a link's pulses, which the monitor then sees;
- a drift detector per link: Page's CUSUM over the block QBERs
  (:class:`qnetai.ai.security.detectors.CusumDetector`, standardised on
  ``calibration_blocks`` honest blocks of the link at start) raises a ``cusum`` alert when a
  QBER rise too small for the abort rule persists (a stealthy eavesdropper); needs the
  ``[ai]`` extra (scikit-learn), else only the abort rule runs;
- alerts (:meth:`LiveNetwork.add_alert`), numbered, kept in a bounded list;
- time-varying key rates: a QKD link with a time-varying loss (a free-space link's
  ``free_space.loss_variation``, the sinusoidal fade the engine's link layer applies,
  piecewise constant over ``update_s``) gets a :class:`RateSchedule`;
  :meth:`LiveNetwork.follow_schedule` sets each such link's rate to its mean over the coming
  window of simulated time and re-plans the pools, so the dashboard and the pools replay the
  fade (:meth:`LiveNetwork.run_rates` does it periodically). Fibre links keep their rate.

:meth:`LiveNetwork.snapshot` is plain data for the dashboard: nodes with positions, links
with state, key rate and last QBER, pool levels, alerts and the entanglement figures.

Example:
    >>> from qnetai.kms.store import KeyStore
    >>> live = LiveNetwork.build("metro-6g", {"A": "metro-east", "B": "metro-west"},
    ...     KeyStore(":memory:"), time_scale=0.001, engine=False)
    >>> live.set_eavesdropper("metro-central-metro-east", 0.8)
    >>> [a["kind"] for a in live.monitor_step()]
    ['qber']
    >>> live.snapshot()["pools"][0]["rate_bps"]  # the pair's only path is down
    0.0
"""

from __future__ import annotations

import dataclasses
import threading
import time
from collections import deque
from collections.abc import Callable, Mapping
from dataclasses import dataclass, field
from typing import Any

import numpy as np

from qnetai.kms.store import KeyStore
from qnetai.kms.supply import SupplyPlan, supply_plan
from qnetai.qkd.estimation import DEFAULT_QBER_THRESHOLD

__all__ = ["LinkState", "LiveNetwork", "RateSchedule"]

#: BB84 abort threshold on the signal Z-basis QBER (the textbook 11 % rule, the one of
#: :mod:`qnetai.qkd.estimation`).
QBER_ABORT = DEFAULT_QBER_THRESHOLD


#: Extra-loss grid points of a :class:`RateSchedule`'s rate table (interpolated in log rate).
RATE_TABLE_POINTS = 61
#: Most fade intervals evaluated for one window mean (longer windows are sampled evenly).
MAX_WINDOW_INTERVALS = 200_000


@dataclass(frozen=True)
class RateSchedule:
    """A QKD link's key rate over simulated time under its sinusoidal extra loss.

    The engine's model (:mod:`qnetai.sim.linklayer`): extra loss ``amplitude_db *
    sin(2 pi t / period_s + phase_rad)`` dB, constant over each interval ``[j u, (j+1) u)``
    of ``u = update_s``, evaluated at ``t = j u``; the channel transmittance is clipped to 1.
    The rate at an extra loss is the link's rate (``base_rate_bps``, the key network's at
    the mean loss) times ``R(loss + extra) / R(loss)``, ``R`` the key rate per pulse of the
    scenario's analytic model (:mod:`qnetai.qkd.network_links`), tabulated on
    ``RATE_TABLE_POINTS`` extra losses and interpolated linearly in ``log R``.

    Example:
        >>> s = RateSchedule(1000.0, 0.5, 3.0, 0.0, 0.025, np.array([-3.0, 0.0, 3.0]),
        ...                  np.array([2.0, 1.0, 0.5]))
        >>> round(s.rate_bps(0.125), 1)  # the fade's deepest point: +3 dB
        500.0
    """

    base_rate_bps: float
    period_s: float
    amplitude_db: float
    phase_rad: float
    update_s: float
    extra_db_grid: np.ndarray
    factor_grid: np.ndarray

    @classmethod
    def for_link(cls, link: Any, qkd_spec: Any, base_rate_bps: float) -> RateSchedule | None:
        """The schedule of ``link`` (a LinkSpec), or None if its loss does not vary."""
        from qnetai.qkd.network_links import EQUIVALENT_DB_PER_KM, _analytic
        from qnetai.topology.channels import link_transmittance

        fs = getattr(link, "free_space", None)
        lv = None if fs is None else fs.loss_variation
        if link.kind != "free_space" or lv is None or lv.amplitude_db == 0.0:
            return None
        grid = np.linspace(-lv.amplitude_db, lv.amplitude_db, RATE_TABLE_POINTS)
        eta = np.maximum(link_transmittance(link, extra_loss_db=grid), 1e-300)
        loss_db = np.maximum(-10.0 * np.log10(eta), 0.0)
        per_pulse = np.array(
            [_analytic(float(x) / EQUIVALENT_DB_PER_KM, qkd_spec)[0] for x in loss_db]
        )
        mean_eta = max(float(link_transmittance(link)), 1e-300)
        at_mean = _analytic(-10.0 * np.log10(mean_eta) / EQUIVALENT_DB_PER_KM, qkd_spec)[0]
        factor = per_pulse / at_mean if at_mean > 0 else np.zeros_like(per_pulse)
        return cls(
            float(base_rate_bps),
            float(lv.period_s),
            float(lv.amplitude_db),
            float(lv.phase_rad),
            float(lv.update_s),
            grid,
            factor,
        )

    def _factor(self, extra_db: np.ndarray) -> np.ndarray:
        positive = self.factor_grid > 0
        if not positive.all():  # a rate of 0 somewhere: interpolate the rate itself
            return np.interp(extra_db, self.extra_db_grid, self.factor_grid)
        return np.exp(np.interp(extra_db, self.extra_db_grid, np.log(self.factor_grid)))

    def extra_db(self, t_s: np.ndarray | float) -> np.ndarray:
        """Extra loss (dB) at simulated time ``t_s``, piecewise constant like the engine's."""
        j = np.floor(np.asarray(t_s, dtype=float) / self.update_s + 1e-9)
        phase = 2.0 * np.pi * j * self.update_s / self.period_s + self.phase_rad
        return self.amplitude_db * np.sin(phase)

    def rate_bps(self, t_s: float) -> float:
        """Key rate (simulated bits/s) at simulated time ``t_s``."""
        return float(self.base_rate_bps * self._factor(self.extra_db(t_s)))

    def mean_rate_bps(self, t0_s: float, t1_s: float) -> float:
        """Mean key rate over the simulated window ``[t0_s, t1_s]`` (exact interval weights)."""
        if not t1_s > t0_s:
            return self.rate_bps(t0_s)
        u = self.update_s
        j0, j1 = int(np.floor(t0_s / u + 1e-9)), int(np.floor(t1_s / u + 1e-9))
        if j1 - j0 + 1 > MAX_WINDOW_INTERVALS:  # sample the window evenly
            t = np.linspace(t0_s, t1_s, MAX_WINDOW_INTERVALS)
            return float(self.base_rate_bps * self._factor(self.extra_db(t)).mean())
        j = np.arange(j0, j1 + 1)
        lo = np.maximum(j * u, t0_s)
        hi = np.minimum((j + 1) * u, t1_s)
        weights = np.maximum(hi - lo, 0.0)
        rates = self._factor(self.extra_db(j * u + 1e-12))
        return float(self.base_rate_bps * (weights * rates).sum() / weights.sum())


@dataclass
class LinkState:
    """One QKD link as the monitor sees it."""

    name: str
    a: str
    b: str
    length_km: float
    key_rate_bps: float
    qber: float
    up: bool = True
    eavesdropper: float = 0.0
    cusum: Any = None  # a fitted CusumDetector (None: no drift detection)
    history: deque[float] = field(default_factory=lambda: deque(maxlen=256))
    alarmed: bool = False
    base_rate_bps: float = 0.0  # the key network's (mean) rate; key_rate_bps is the current
    schedule: RateSchedule | None = None  # time-varying loss (None: constant rate)


@dataclass
class LiveNetwork:
    """Run figures, pools and the changing link states of a served scenario (see module)."""

    scenario: Any
    sae_nodes: dict[str, str]
    store: KeyStore
    plan: SupplyPlan
    time_scale: float
    key_network: Any
    summary: dict[str, Any]
    nodes: list[dict[str, Any]]
    links: dict[str, LinkState]
    rng: np.random.Generator
    qber_abort: float = QBER_ABORT
    block_pulses: int = 1_000_000
    calibration_blocks: int = 8
    alerts: deque[dict[str, Any]] = field(default_factory=lambda: deque(maxlen=200))
    started_s: float = field(default_factory=time.time)
    _lock: threading.Lock = field(default_factory=threading.Lock)
    _plan_lock: threading.Lock = field(default_factory=threading.Lock)
    _next_alert: int = 1
    _listeners: list[Callable[[dict[str, Any]], None]] = field(default_factory=list)
    capacity_bits: int = 0

    @classmethod
    def build(
        cls,
        scenario: Any,
        sae_nodes: Mapping[str, str],
        store: KeyStore,
        *,
        time_scale: float = 1.0,
        seed: int | None = None,
        engine: bool = True,
        pool_capacity_bits: int | None = None,
        initial_pool_bits: int | None = None,
        key_network: Any = None,
        calibrate: bool = True,
    ) -> LiveNetwork:
        """Run the scenario and configure ``store``'s pools from its link rates.

        ``engine``: the full :func:`~qnetai.facade.run_scenario` (entanglement figures
        included), else the key network alone (faster); ``key_network``: a key network
        result of this scenario and seed already computed (neither is run then);
        ``calibrate``: fit the CUSUM drift detectors now (False: the abort rule alone).
        """
        from qnetai import facade, qkd
        from qnetai.errors import InputError
        from qnetai.topology import resolve

        sc = resolve(facade.with_seed(facade.load(scenario), seed))
        names = {n.name for n in sc.nodes}
        for sae, node in sae_nodes.items():  # before the (longer) run
            if node not in names:
                raise InputError(f"SAE {sae!r}: unknown node {node!r} of scenario {sc.name!r}")
        if key_network is not None:
            summary = {}
        elif engine:
            run = facade.run_scenario(sc)
            key_network, summary = run.key_network, dict(run.summary)
        else:
            key_network = qkd.simulate_key_network(
                sc, rng=np.random.default_rng([int(sc.seed), facade.QKD_SEED_TAG])
            )
            summary = {}
        plan = supply_plan(sc, sae_nodes, key_network=key_network)
        cap = plan.pool_capacity_bits if pool_capacity_bits is None else pool_capacity_bits
        init = plan.initial_pool_bits if initial_pool_bits is None else initial_pool_bits
        store.configure_pools(
            plan.rates_bps, capacity_bits=cap, initial_bits=min(init, cap), time_scale=time_scale
        )
        specs = {ln.name or f"{ln.endpoints[0]}-{ln.endpoints[1]}": ln for ln in sc.links}
        links = {
            r["link"]: LinkState(
                name=r["link"],
                a=r["a"],
                b=r["b"],
                length_km=float(r["length_km"]),
                key_rate_bps=float(r["key_rate_bps"]),
                qber=float(r["qber"]),
                base_rate_bps=float(r["key_rate_bps"]),
                schedule=(
                    RateSchedule.for_link(specs[r["link"]], sc.qkd, float(r["key_rate_bps"]))
                    if r["link"] in specs
                    else None
                ),
            )
            for r in key_network.link_key_rates.to_pylist()
        }
        nodes = [
            {"name": n.name, "kind": n.kind, "position_km": list(n.position_km or (0.0, 0.0))}
            for n in sc.nodes
        ]
        live = cls(
            scenario=sc,
            sae_nodes=dict(sae_nodes),
            store=store,
            plan=plan,
            time_scale=time_scale,
            key_network=key_network,
            summary=summary,
            nodes=nodes,
            links=links,
            rng=np.random.default_rng([int(sc.seed), 0x4C495645]),
            capacity_bits=cap,
        )
        if calibrate:
            live.calibrate()
        return live

    def _block_qber(self, lk: LinkState, eavesdropper: float) -> float:
        from qnetai.qkd.monitoring import labelled_block_features
        from qnetai.qkd.pulses import BB84Setup

        rows = labelled_block_features(
            BB84Setup.from_distance(lk.length_km),
            n_blocks=1,
            block_pulses=self.block_pulses,
            rng=self.rng,
            attack_kinds=("intercept-resend",),
            attack_probability=1.0 if eavesdropper > 0 else 0.0,
            strength=(eavesdropper, eavesdropper),
        )
        return float(rows[0]["qber_z_signal"])

    def calibrate(self) -> None:
        """Fit each link's CUSUM on ``calibration_blocks`` honest blocks (needs ``[ai]``)."""
        try:
            from qnetai.ai.security.detectors import CusumDetector
        except ImportError:  # scikit-learn absent: the abort rule alone
            return
        for lk in self.links.values():
            honest = [self._block_qber(lk, 0.0) for _ in range(self.calibration_blocks)]
            lk.cusum = CusumDetector(drift=0.5, threshold=5.0).fit(np.array(honest)[:, None])

    # ------------------------------------------------------------------ changes

    def on_alert(self, listener: Callable[[dict[str, Any]], None]) -> None:
        """Call ``listener(alert)`` for every new alert (from the thread that raises it)."""
        self._listeners.append(listener)

    def add_alert(
        self, message: str, *, kind: str = "operator", link: str | None = None, **extra: Any
    ) -> dict[str, Any]:
        """Record an alert (numbered from 1, with wall time); returns it."""
        with self._lock:
            alert = {
                "id": self._next_alert,
                "time_s": time.time(),
                "kind": kind,
                "link": link,
                "message": message,
                **extra,
            }
            self._next_alert += 1
            self.alerts.append(alert)
        for listener in list(self._listeners):
            listener(alert)
        return alert

    def set_eavesdropper(self, link: str, fraction: float) -> None:
        """Intercept-resend on ``fraction`` of the pulses of ``link`` (0: remove it)."""
        if link not in self.links:
            raise KeyError(f"no QKD link {link!r} (links: {', '.join(sorted(self.links))})")
        if not 0.0 <= fraction <= 1.0:
            raise ValueError(f"fraction must be in [0, 1] (got {fraction})")
        self.links[link].eavesdropper = float(fraction)

    def _replan(self, flips: dict[str, bool]) -> None:
        """Set links up/down (``flips``) and re-plan the pools, seen as one change."""
        self._replan_with(flips, {})

    def _replan_with(self, flips: dict[str, bool], rates: dict[str, float]) -> None:
        """Set links up/down (``flips``) and current rates (``rates``); re-plan the pools.

        Serialised (the QBER monitor and the rate schedule run in different threads).
        """
        with self._plan_lock:
            down = [n for n, lk in self.links.items() if not flips.get(n, lk.up)]
            current = {n: rates.get(n, lk.key_rate_bps) for n, lk in self.links.items()}
            plan = supply_plan(
                self.scenario,
                self.sae_nodes,
                key_network=self.key_network,
                down_links=down,
                link_rates_bps=current,
            )
            with self._lock:
                for name, up in flips.items():
                    self.links[name].up = up
                for name, rate in rates.items():
                    self.links[name].key_rate_bps = rate
                self.plan = plan
                self.store.configure_pools(
                    plan.rates_bps, capacity_bits=self.capacity_bits, time_scale=self.time_scale
                )

    def monitor_step(self) -> list[dict[str, Any]]:
        """One monitored block per QKD link; abort/restore links; the new alerts."""
        flips: dict[str, bool] = {}
        drifts: list[tuple[str, float]] = []
        for lk in self.links.values():
            lk.qber = self._block_qber(lk, lk.eavesdropper)
            if (lk.qber > self.qber_abort) == lk.up:
                flips[lk.name] = not lk.up
            if lk.cusum is not None:
                lk.history.append(lk.qber)
                stat = float(lk.cusum.statistic(np.array(lk.history)[:, None])[-1])
                if stat > lk.cusum.threshold and not lk.alarmed:
                    lk.alarmed = True
                    drifts.append((lk.name, stat))
                elif stat == 0.0:
                    lk.alarmed = False  # back to the honest level: re-arm
        if flips:
            self._replan(flips)
        new = []
        for name, up in flips.items():
            qber = self.links[name].qber
            if up:
                message = f"QBER {qber:.1%} on {name}: link restored"
            else:
                message = f"QBER {qber:.1%} on {name} above {self.qber_abort:.0%}: link aborted"
            kind = "restored" if up else "qber"
            new.append(self.add_alert(message, kind=kind, link=name, qber=qber))
        for name, stat in drifts:
            if flips.get(name) is False:
                continue  # aborted in this step: the abort alert says it
            qber = self.links[name].qber
            message = (
                f"QBER drift on {name}: CUSUM {stat:.1f} > {self.links[name].cusum.threshold:g}"
                f" (last block {qber:.1%}); possible eavesdropper below the abort threshold"
            )
            new.append(self.add_alert(message, kind="cusum", link=name, qber=qber))
        return new

    @property
    def varying_links(self) -> list[str]:
        """Names of the links whose rate follows a :class:`RateSchedule`."""
        return [n for n, lk in self.links.items() if lk.schedule is not None]

    def simulated_s(self, now_s: float | None = None) -> float:
        """Simulated time at wall-clock ``now_s`` (default: now) since the service started."""
        now = time.time() if now_s is None else now_s
        return max(0.0, now - self.started_s) * self.time_scale

    def follow_schedule(self, now_s: float | None = None, *, horizon_s: float) -> dict[str, float]:
        """Set each time-varying link's rate to its mean over the coming simulated window.

        The window is ``[t, t + horizon_s]``, ``t`` the simulated time at wall-clock
        ``now_s``; the pools are re-planned (they first fill up to now at the old rates).
        Returns the rates set.
        """
        t = self.simulated_s(now_s)
        rates = {
            n: lk.schedule.mean_rate_bps(t, t + horizon_s)
            for n, lk in self.links.items()
            if lk.schedule is not None
        }
        if rates:
            self._replan_with({}, rates)
        return rates

    def run_rates(self, stop: threading.Event, *, interval_s: float = 0.2) -> None:
        """Call :meth:`follow_schedule` every ``interval_s`` (wall) until ``stop`` is set."""
        if not self.varying_links:
            return
        while True:
            self.follow_schedule(horizon_s=interval_s * self.time_scale)
            if stop.wait(interval_s):
                return

    # ------------------------------------------------------------------ reading

    def snapshot(self, *, since_alert: int = 0) -> dict[str, Any]:
        """Plain data for the dashboard (alerts with id > ``since_alert``); no key material."""
        with self._lock:
            plan = self.plan
            links = [dataclasses.replace(lk) for lk in self.links.values()]
        pools = []
        for (a, b), rate in plan.rates_bps.items():
            level, cap = self.store.pool_status(a, b)
            path = plan.paths.get((a, b))
            pools.append(
                {
                    "saes": [a, b],
                    "rate_bps": rate,
                    "level_bits": level,
                    "capacity_bits": cap,
                    "path": path,
                }
            )
        ent = self.key_network.entanglement_qkd.to_pylist()
        with self._lock:
            alerts = [a for a in self.alerts if a["id"] > since_alert]
        return {
            "scenario": plan.scenario,
            "time_s": time.time(),
            "simulated_s": (time.time() - self.started_s) * self.time_scale,
            "time_scale": self.time_scale,
            "nodes": self.nodes,
            "links": [
                {
                    "name": lk.name,
                    "a": lk.a,
                    "b": lk.b,
                    "up": lk.up,
                    "key_rate_bps": lk.key_rate_bps if lk.up else 0.0,
                    "mean_key_rate_bps": lk.base_rate_bps,
                    "fading": lk.schedule is not None,
                    "qber": lk.qber,
                    "eavesdropper": lk.eavesdropper > 0,
                }
                for lk in links
            ],
            "pools": pools,
            "alerts": alerts,
            "entanglement": {
                "pairs_delivered": self.summary.get("pairs_delivered"),
                "pairs_per_s": self.summary.get("pairs_per_s"),
                "mean_fidelity": self.summary.get("mean_fidelity"),
                "mean_latency_s": self.summary.get("mean_latency_s"),
                "qkd_pairs": [
                    {
                        "source": r["source"],
                        "destination": r["destination"],
                        "pairs_delivered": r["pairs_delivered"],
                        "mean_fidelity": r["mean_fidelity"],
                        "key_rate_bps_expected": r["key_rate_bps_expected"],
                    }
                    for r in ent
                ],
            },
        }

    def run_monitor(self, stop: threading.Event, *, interval_s: float = 1.0) -> None:
        """Call :meth:`monitor_step` every ``interval_s`` until ``stop`` is set."""
        while not stop.wait(interval_s):
            self.monitor_step()
