"""Alerts in the main job: watch every QKD link's telemetry and say what went wrong, and when.

:func:`monitor_key_network` runs after the key network of :func:`qnetai.run_scenario`. Per
QKD link it simulates ``monitoring.blocks`` blocks over the run (each a sample of
``monitoring.block_pulses`` pulses through the pulse-level simulator,
:func:`qnetai.qkd.pulses.iter_blocks`, read by
:func:`qnetai.qkd.monitoring.telemetry_features`) with the scenario's ``incidents``
applied on their link from ``start_s`` to ``end_s``: an attack of
:data:`qnetai.qkd.attacks.ATTACKS` on a fraction ``strength`` of the pulses, or a fault
(``detector-decay``: Bob's efficiency times ``1 - severity``; ``fibre-loss``: ``severity``
dB more loss). The link's detector is calibrated on ``monitoring.calibration_blocks``
honest blocks of the same link (commissioning), then watches the stream:

* ``cusum``: Page's CUSUM, ``S_t = max(0, S_{t-1} + z_t - drift)`` (the recursion of
  :class:`qnetai.ai.security.detectors.CusumDetector`, here in numpy so the main job does
  not need scikit-learn), on each statistic of :data:`CHANNELS` standardised by the
  calibration mean and standard deviation; an alarm when ``S_t > cusum_threshold`` names
  the cause that statistic points to (a QBER rise: intercept-resend; a gain drop with
  the other statistics steady: a fault, detector decay or fibre loss, which Bob's
  telemetry alone cannot tell apart);
* ``qber-threshold``: the textbook rule, an alarm when a block's signal QBER exceeds 11 %.

Each alarm is an :class:`Alert` (link, time, kind, cause, score, confidence, its estimated
onset, and what it cost: key distilled between the estimated onset and the alert, which
an attack may have exposed; key withheld from the alert to the end of the run, the link
held until an operator clears it; key lost to a fault's lower gain), matched to the injected
incident it caught (detection delay from the true start) or marked a false alarm. The QBER
rule's delay on the same telemetry is reported beside every incident.

Example:
    >>> import qnetai
    >>> run = qnetai.run_scenario("metro-6g")  # doctest: +SKIP
    >>> [(a.link, a.cause) for a in run.monitoring.alerts]  # doctest: +SKIP
"""

from __future__ import annotations

import dataclasses
import math
import time
from collections.abc import Iterator
from dataclasses import dataclass
from typing import Any

import numpy as np
import pyarrow as pa
from numpy.typing import NDArray

from qnetai.ai.security._cusum import cusum_path
from qnetai.errors import InputError

__all__ = [
    "ALERT_SCHEMA",
    "CHANNELS",
    "Alert",
    "MonitoringResult",
    "check_incidents",
    "cusum_path",
    "monitor_key_network",
    "monitoring_spec",
]

#: Statistics the CUSUM detector watches: (name, telemetry column, direction, kind, cause).
#: ``double_per_gain`` is the double-click rate per signal gain (steady under loss changes).
CHANNELS: tuple[tuple[str, str, int, str, str], ...] = (
    ("qber", "qber_z_signal", +1, "attack", "intercept-resend"),
    ("decoy", "single_photon_fraction", -1, "attack", "pns"),
    ("double-clicks", "double_per_gain", -1, "attack", "blinding"),
    ("monitor", "monitor_photodiode_nw", +1, "attack", "trojan-horse"),
    ("timing", "timing_std_ps", +1, "attack", "time-shift"),
    ("gain", "gain_signal", -1, "fault", "detector-decay or fibre-loss"),
)

#: Columns of ``alerts.parquet``.
ALERT_SCHEMA = pa.schema(
    [
        ("alert_id", pa.int64()),
        ("link", pa.string()),
        ("time_s", pa.float64()),
        ("kind", pa.string()),
        ("cause", pa.string()),
        ("detector", pa.string()),
        ("statistic", pa.string()),
        ("score", pa.float64()),
        ("confidence", pa.float64()),
        ("onset_estimate_s", pa.float64()),
        ("true_kind", pa.string()),
        ("true_cause", pa.string()),
        ("true_start_s", pa.float64()),
        ("delay_s", pa.float64()),
        ("key_rate_bps", pa.float64()),
        ("key_bits_at_risk", pa.float64()),
        ("key_bits_withheld", pa.float64()),
        ("key_bits_lost", pa.float64()),
    ]
)


@dataclass(frozen=True)
class Alert:
    """One alarm on one link (times in s from the start of the run; bits of key).

    ``true_*`` and ``delay_s`` come from the injected incident it caught (None: a false
    alarm); everything else is what a deployed monitor knows.
    """

    alert_id: int
    link: str
    time_s: float
    kind: str
    cause: str
    detector: str
    statistic: str
    score: float
    confidence: float
    onset_estimate_s: float
    true_kind: str | None
    true_cause: str | None
    true_start_s: float | None
    delay_s: float | None
    key_rate_bps: float
    key_bits_at_risk: float
    key_bits_withheld: float
    key_bits_lost: float

    def to_dict(self) -> dict[str, Any]:
        """Plain data (one row of ``alerts.parquet``)."""
        return dataclasses.asdict(self)


@dataclass(frozen=True)
class MonitoringResult:
    """Alerts of one run, per-incident outcomes and a summary."""

    alerts: tuple[Alert, ...]
    incidents: tuple[dict[str, Any], ...]
    summary: dict[str, Any]

    def table(self) -> pa.Table:
        """The alerts as a table of :data:`ALERT_SCHEMA` (``alerts.parquet``)."""
        rows = [a.to_dict() for a in self.alerts]
        return pa.Table.from_pylist(rows, schema=ALERT_SCHEMA)

    def stream(self) -> Iterator[dict[str, Any]]:
        """The alerts as plain records in time order (for a service or dashboard)."""
        for a in sorted(self.alerts, key=lambda a: (a.time_s, a.alert_id)):
            yield a.to_dict()

    def counts(self) -> dict[str, int]:
        """Counts for the run's ``summary.json``: alerts, false alarms, incidents caught."""
        return {
            "alerts": int(self.summary["alerts"]),
            "alerts_false": int(self.summary["false_alarms"]),
            "incidents": int(self.summary["incidents"]),
            "incidents_detected": int(self.summary["incidents_detected"]),
        }

    def to_dict(self) -> dict[str, Any]:
        """Summary, incidents and alerts as plain data (the ``--json`` document)."""
        return {
            "summary": dict(self.summary),
            "incidents": [dict(i) for i in self.incidents],
            "alerts": list(self.stream()),
        }


def monitoring_spec(scenario: Any) -> Any:
    """The scenario's monitoring settings; defaults when it has incidents; None: off."""
    if scenario.monitoring is not None:
        return scenario.monitoring
    if scenario.incidents:
        from qnetai.config.models import MonitoringSpec

        return MonitoringSpec()
    return None


def _qkd_link_names(scenario: Any) -> list[str]:
    if not scenario.qkd.enabled:
        return []
    return [lk.name or f"{lk.endpoints[0]}-{lk.endpoints[1]}" for lk in scenario.links if lk.qkd]


def check_incidents(scenario: Any) -> None:
    """Refuse incidents on unknown or non-QKD links (the message names the field path).

    ``scenario`` must be resolved (explicit links). An incident that starts after the end
    of the run (e.g. a run shortened by ``--duration-s``) is allowed: it is reported as
    not in the run.
    """
    names = _qkd_link_names(scenario)
    for i, inc in enumerate(scenario.incidents):
        if inc.link not in names:
            shown = ", ".join(names) if names else "none: no link has qkd: true"
            raise InputError(
                f"incidents[{i}].link: {inc.link!r} is not a QKD link of scenario "
                f"{scenario.name!r} (QKD links: {shown})"
            )


def _block_statistics(block: Any, *, mu: float, nu: float, rng: np.random.Generator) -> list[float]:
    """The :data:`_STAT_COLUMNS` of one block, as :func:`telemetry_features` computes them.

    Only the statistics the detectors read: the counts of
    :func:`~qnetai.qkd.sifting.block_counts` they need, counted directly
    (``telemetry_features`` counts twice and adds decoy error bounds and click balances),
    the same random draws in the same order (timing jitter, time-shift, monitor noise), so
    the run's stream and figures are unchanged (tested equal to ``telemetry_features``).
    """
    from qnetai.qkd.monitoring import TelemetryConditions, timing_and_monitor

    cond = _CONDITIONS if _CONDITIONS is not None else TelemetryConditions()
    # the counts of qnetai.qkd.sifting.block_counts that are read here (sent per intensity,
    # detections per intensity, sifted and erroneous Z-basis signal detections, multi-clicks)
    # without its np.add.at scatter over all classes: the same integers
    sent_k = block.sent.sum(axis=1)
    detections = np.bincount(block.intensity, minlength=3).astype(np.int64)
    z_signal = (block.intensity == 0) & (block.alice_basis == 0) & (block.bob_basis == 0)
    nan = float("nan")
    gain = float(detections[0] / sent_k[0]) if sent_k[0] else nan
    n_z = np.int64(np.count_nonzero(z_signal))
    n_err = np.int64(np.count_nonzero(z_signal & (block.alice_bit != block.bob_bit)))
    qber = float(n_err / n_z) if n_z else nan
    det = int(detections.sum())
    double = float(int(np.count_nonzero(block.multi_click)) / det) if det else nan
    q = np.where(sent_k > 0, detections / np.maximum(sent_k, 1), np.nan)
    t, monitor = timing_and_monitor(block, cond, rng)
    timing_std = float(t.std()) if t.size > 1 else nan
    return [qber, float(q[0]), float(q[1]), float(q[2]), double, monitor, timing_std, gain]


def _single_photon_fraction(q: NDArray[np.float64], *, mu: float, nu: float) -> NDArray[np.float64]:
    """``single_photon_fraction`` of blocks with gains ``q`` (rows: signal, decoy, vacuum).

    ``telemetry_features``' formula over all blocks at once: the element-wise operations of
    :func:`~qnetai.qkd.decoy.y1_lower_vacuum_weak` in the same order, so equal bit for bit.
    """
    from qnetai.qkd.decoy import y1_lower_vacuum_weak

    y1 = y1_lower_vacuum_weak(mu=mu, nu=nu, q_mu=q[:, 0], q_nu=q[:, 1], y0=q[:, 2])
    ok = np.isfinite(q[:, 0]) & (q[:, 0] > 0)
    with np.errstate(divide="ignore", invalid="ignore"):
        spf = y1 * mu * np.exp(-mu) / q[:, 0]
    return np.where(ok, spf, np.nan)


#: Columns of :func:`_block_statistics`, in its order (``double_click_rate`` per detection;
#: ``q_*`` the gains that :func:`_single_photon_fraction` turns into
#: ``single_photon_fraction``).
_STAT_COLUMNS = (
    "qber_z_signal",
    "q_signal",
    "q_decoy",
    "q_vacuum",
    "double_click_rate",
    "monitor_photodiode_nw",
    "timing_std_ps",
    "gain_signal",
)
#: Instrument conditions of the telemetry (None: ``TelemetryConditions()``, the defaults).
_CONDITIONS: Any = None


def _telemetry(
    setups: dict[tuple[int, ...], Any],
    keys: list[tuple[int, ...]],
    attacks: list[Any],
    block_pulses: int,
    rng: np.random.Generator,
    models: dict[tuple[int, ...], dict[Any, Any]] | None = None,
) -> dict[str, NDArray[np.float64]]:
    """Per-block statistics of consecutive segments sharing one setup (faults active).

    ``models`` keeps the pulse-type models per setup key across calls (same setups).
    """
    from qnetai.qkd.pulses import iter_blocks

    parts: list[NDArray[np.float64]] = []
    spf: list[NDArray[np.float64]] = []
    i = 0
    while i < len(keys):
        j = i
        while j < len(keys) and keys[j] == keys[i]:
            j += 1
        setup = setups[keys[i]]
        rows = [
            _block_statistics(blk, mu=setup.mu, nu=setup.nu, rng=rng)
            for blk in iter_blocks(
                setup,
                pulses=(j - i) * block_pulses,
                rng=rng,
                block_pulses=block_pulses,
                block_attacks=attacks[i:j],
                models=None if models is None else models.setdefault(keys[i], {}),
            )
        ]
        part = np.array(rows, dtype=float).reshape(len(rows), len(_STAT_COLUMNS))
        spf.append(_single_photon_fraction(part[:, 1:4], mu=setup.mu, nu=setup.nu))
        parts.append(part)
        i = j
    table = np.concatenate(parts)
    cols = {name: table[:, k].copy() for k, name in enumerate(_STAT_COLUMNS)}
    cols["single_photon_fraction"] = np.concatenate(spf)
    with np.errstate(divide="ignore", invalid="ignore"):
        g = cols["gain_signal"]
        cols["double_per_gain"] = cols.pop("double_click_rate") / g
    return cols


def _base_setup(row: dict[str, Any], spec: Any) -> Any:
    from qnetai.qkd.network_links import _channel
    from qnetai.qkd.pulses import BB84Setup

    mu = float(row["mu"]) if row.get("mu") else 0.5
    nu = float(row["nu"]) if row.get("nu") else 0.1
    if not nu < mu:
        nu = mu / 5.0
    eta = 10.0 ** (-float(row["loss_db"]) / 10.0)
    return BB84Setup(channel_transmittance=min(eta, 1.0), mu=mu, nu=nu, channel=_channel(spec))


def _faulty(setup: Any, faults: list[Any]) -> Any:
    ch, eta = setup.channel, setup.channel_transmittance
    for f in faults:
        if f.fault == "detector-decay":
            ch = dataclasses.replace(ch, eta_bob=ch.eta_bob * (1.0 - f.severity))
        else:
            eta = eta * 10.0 ** (-f.severity / 10.0)
    return dataclasses.replace(setup, channel=ch, channel_transmittance=eta)


def _phi(z: float) -> float:
    return 0.5 * (1.0 + math.erf(z / math.sqrt(2.0)))


def monitor_key_network(
    scenario: Any, key_network: Any, *, rng: np.random.Generator
) -> MonitoringResult:
    """Simulate every QKD link's telemetry with the incidents applied; detect; alert.

    ``scenario`` is the resolved scenario that ran, ``key_network`` its
    :class:`~qnetai.qkd.network.KeyNetworkResult` (link key rates and losses); ``rng`` the
    only source of randomness (one child stream per link, in the key-rate table's order).
    """
    from qnetai.qkd.attacks import AttackSpec
    from qnetai.qkd.estimation import DEFAULT_QBER_THRESHOLD

    t0 = time.perf_counter()
    check_incidents(scenario)
    mon = monitoring_spec(scenario)
    if mon is None:
        raise InputError("monitoring: the scenario has neither monitoring nor incidents")
    duration = float(key_network.summary.get("duration_s") or scenario.duration_s)
    n, bp = int(mon.blocks), int(mon.block_pulses)
    block_s = duration / n
    mid = (np.arange(n) + 0.5) * block_s
    links = key_network.link_key_rates.to_pylist()
    children = rng.spawn(len(links)) if links else []
    alerts: list[Alert] = []
    incident_out: list[dict[str, Any]] = []
    first_alert: dict[int, Alert] = {}
    qber_rule: dict[int, float | None] = {}
    for row, r_link in zip(links, children, strict=True):
        name = str(row["link"])
        rate = float(row["key_rate_bps"] or 0.0)
        mine = [(i, inc) for i, inc in enumerate(scenario.incidents) if inc.link == name]

        def active(inc: Any, t: float) -> bool:
            return bool(inc.start_s <= t and (inc.end_s is None or t < inc.end_s))

        base = _base_setup(row, scenario.qkd)
        keys: list[tuple[int, ...]] = []
        attacks: list[Any] = []
        setups: dict[tuple[int, ...], Any] = {(): base}
        for t in mid:
            on = [(i, inc) for i, inc in mine if active(inc, float(t))]
            key = tuple(i for i, inc in on if inc.kind == "fault")
            if key not in setups:
                setups[key] = _faulty(base, [scenario.incidents[i] for i in key])
            keys.append(key)
            atk = next((inc for _, inc in on if inc.kind == "attack"), None)
            attacks.append(AttackSpec(atk.family, atk.strength) if atk is not None else None)
        models: dict[tuple[int, ...], dict[Any, Any]] = {}  # the same setups: built once
        cal = _telemetry(
            {(): base},
            [()] * mon.calibration_blocks,
            [None] * mon.calibration_blocks,
            bp,
            r_link,
            models,
        )
        obs = _telemetry(setups, keys, attacks, bp, r_link, models)
        # the textbook rule on the same telemetry, beside every incident
        over = np.flatnonzero(obs["qber_z_signal"] > DEFAULT_QBER_THRESHOLD)
        for i, inc in mine:
            hits = [float((b + 1) * block_s) for b in over if mid[b] >= inc.start_s]
            qber_rule[i] = hits[0] - inc.start_s if hits else None
        if mon.detector == "qber-threshold":
            found = []
            if over.size:
                b = int(over[0])
                q = float(obs["qber_z_signal"][b])
                found.append(("qber-abort", "qber_z_signal", "attack", "unknown", b, b, q, 1.0))
        else:
            found = []
            for stat, column, sign, kind, cause in CHANNELS:
                c = cal[column][np.isfinite(cal[column])]
                if c.size < 3:
                    continue
                sd = float(c.std(ddof=1)) or 1.0
                z = sign * (obs[column] - float(c.mean())) / sd
                s = cusum_path(z, float(mon.cusum_drift))
                hit = np.flatnonzero(s > float(mon.cusum_threshold))
                if not hit.size:
                    continue
                b = int(hit[0])
                zeros = np.flatnonzero(s[:b] == 0.0)
                onset = int(zeros[-1]) + 1 if zeros.size else 0
                zz = np.where(np.isfinite(z[onset : b + 1]), z[onset : b + 1], 0.0)
                conf = _phi(float(zz.sum()) / math.sqrt(zz.size))
                found.append((stat, column, kind, cause, b, onset, float(s[b]), conf))
        for stat, _column, kind, cause, b, onset, score, conf in found:
            t_alert = float((b + 1) * block_s)
            t_onset = float(onset * block_s)
            at_risk = withheld = lost = 0.0
            if kind == "attack":
                at_risk = rate * (t_alert - t_onset)
                withheld = rate * (duration - t_alert)
            else:
                g = obs["gain_signal"]
                ref = float(np.nanmean(cal["gain_signal"]))
                drop = 1.0 - float(np.nanmean(g[onset:])) / ref if ref > 0 else 0.0
                lost = rate * max(drop, 0.0) * (duration - t_onset)
            match = [
                (i, inc)
                for i, inc in mine
                if inc.start_s <= t_alert and (kind == inc.kind or stat == "qber-abort")
            ]
            i_true, inc_true = max(match, key=lambda m: m[1].start_s) if match else (None, None)
            alert = Alert(
                alert_id=0,
                link=name,
                time_s=t_alert,
                kind=kind,
                cause=cause,
                detector=mon.detector,
                statistic=stat,
                score=score,
                confidence=conf,
                onset_estimate_s=t_onset,
                true_kind=inc_true.kind if inc_true else None,
                true_cause=(inc_true.family or inc_true.fault) if inc_true else None,
                true_start_s=float(inc_true.start_s) if inc_true else None,
                delay_s=t_alert - float(inc_true.start_s) if inc_true else None,
                key_rate_bps=rate,
                key_bits_at_risk=at_risk,
                key_bits_withheld=withheld,
                key_bits_lost=lost,
            )
            alerts.append(alert)
            if i_true is not None and (
                i_true not in first_alert or alert.time_s < first_alert[i_true].time_s
            ):
                first_alert[i_true] = alert
    alerts.sort(key=lambda a: (a.time_s, a.link, a.statistic))
    alerts = [dataclasses.replace(a, alert_id=k + 1) for k, a in enumerate(alerts)]
    by_key = {(a.link, a.time_s, a.statistic): a.alert_id for a in alerts}
    for i, inc in enumerate(scenario.incidents):
        a = first_alert.get(i)
        incident_out.append(
            {
                "incident": i,
                "link": inc.link,
                "kind": inc.kind,
                "cause": inc.family or inc.fault,
                "strength": inc.strength if inc.kind == "attack" else inc.severity,
                "start_s": float(inc.start_s),
                "end_s": float(inc.end_s) if inc.end_s is not None else None,
                "in_run": bool(inc.start_s < duration),
                "detected": a is not None,
                "alert_id": by_key[(a.link, a.time_s, a.statistic)] if a else None,
                "delay_s": a.delay_s if a else None,
                "qber_rule_delay_s": qber_rule.get(i),
            }
        )
    false = [a for a in alerts if a.true_kind is None]
    summary = {
        "detector": mon.detector,
        "links": len(links),
        "blocks_per_link": n,
        "block_s": block_s,
        "block_pulses": bp,
        "incidents": len(scenario.incidents),
        "incidents_detected": sum(1 for r in incident_out if r["detected"]),
        "alerts": len(alerts),
        "false_alarms": len(false),
        "key_bits_at_risk": float(sum(a.key_bits_at_risk for a in alerts)),
        "key_bits_withheld": float(sum(a.key_bits_withheld for a in alerts)),
        "key_bits_lost": float(sum(a.key_bits_lost for a in alerts)),
        "wall_time_s": time.perf_counter() - t0,
    }
    return MonitoringResult(tuple(alerts), tuple(incident_out), summary)
