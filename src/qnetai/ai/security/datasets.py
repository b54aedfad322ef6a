"""Labelled per-block QKD telemetry for attack detectors, from the project's own simulator.

The generator runs *episodes*: one BB84 link (distance, receiver hardware drawn per
episode) observed for ``episode_blocks`` blocks of ``block_pulses`` pulses. An episode is
honest, or an attack of one family of :data:`~qnetai.qkd.attacks.ATTACKS` starts at a
random onset block and stays on at one strength (the fraction of pulses attacked) drawn
from :data:`DEFAULT_STRENGTHS`, which includes strengths far below the QBER abort
threshold. Within an episode the instruments drift: the clock offset and Alice's monitor
baseline follow random walks. Each block yields one row of
:data:`~qnetai.qkd.monitoring.TELEMETRY_FEATURE_NAMES` plus the ground truth in
:data:`META_COLUMNS`.

Per-episode draws (uniform unless stated): distance 5-60 km of the default fibre, Bob's
efficiency 0.045 x [0.8, 1.1], background ``y0`` 1.7e-6 x [0.5, 3], misalignment
[0.015, 0.04], after-pulse probability [0, 0.02], timing jitter 40-60 ps, monitor noise
0.3 nW; source mu = 0.5, nu = 0.1, p = (0.7, 0.2, 0.1), p_z = 1/2. Time stamps assume a
1 GHz pulse rate.

Example:
    >>> import numpy as np
    >>> rows = [r for ep in iter_episodes(2, rng=np.random.default_rng(0), episode_blocks=3,
    ...     block_pulses=50_000) for r in ep]
    >>> len(rows), META_COLUMNS[:2]
    (6, ('episode', 'block'))
"""

from __future__ import annotations

from collections.abc import Iterator, Mapping
from dataclasses import dataclass, field
from typing import Any

import numpy as np
from numpy.typing import NDArray

from qnetai.errors import InputError
from qnetai.qkd.attacks import ATTACKS, AttackSpec
from qnetai.qkd.channel import DEFAULT_CHANNEL, ChannelModel
from qnetai.qkd.monitoring import TELEMETRY_FEATURE_NAMES, TelemetryConditions, telemetry_features
from qnetai.qkd.pulses import BB84Setup, iter_blocks

__all__ = [
    "DEFAULT_STRENGTHS",
    "META_COLUMNS",
    "PULSE_RATE_HZ",
    "DatasetOptions",
    "iter_episodes",
    "make_dataset",
    "rows_to_arrays",
]

#: Attack strengths (fraction of pulses attacked) per family; the low ones are stealthy.
DEFAULT_STRENGTHS: Mapping[str, tuple[float, ...]] = {
    name: (0.02, 0.05, 0.1, 0.2, 0.4, 0.8) for name in ATTACKS
}
#: Ground-truth and context columns of every row (never detector features).
META_COLUMNS: tuple[str, ...] = (
    "episode",
    "block",
    "time_s",
    "label",
    "strength",
    "attacked",
    "onset_block",
    "distance_km",
    "n_pulses",
    "attacked_fraction",
)
#: Pulse rate used for the ``time_s`` column.
PULSE_RATE_HZ = 1e9


@dataclass(frozen=True)
class DatasetOptions:
    """What :func:`iter_episodes` simulates (validated on creation).

    ``attack_fraction``: share of episodes with an attack; ``families``: attack families
    drawn uniformly; ``strengths``: per-family strengths drawn uniformly.
    """

    episode_blocks: int = 20
    block_pulses: int = 500_000
    distance_km: tuple[float, float] = (5.0, 60.0)
    attack_fraction: float = 0.75
    families: tuple[str, ...] = ATTACKS
    strengths: Mapping[str, tuple[float, ...]] = field(default_factory=lambda: DEFAULT_STRENGTHS)

    def __post_init__(self) -> None:
        if self.episode_blocks < 2:
            raise InputError(f"episode_blocks must be >= 2 (got {self.episode_blocks})")
        if not 10_000 <= self.block_pulses <= 100_000_000:
            raise InputError(f"block_pulses must be in [1e4, 1e8] (got {self.block_pulses})")
        lo, hi = self.distance_km
        if not 0.0 <= lo <= hi <= 200.0:
            raise InputError(f"distance_km must satisfy 0 <= lo <= hi <= 200 (got {lo}, {hi})")
        if not 0.0 <= self.attack_fraction <= 1.0:
            raise InputError(f"attack_fraction must be in [0, 1] (got {self.attack_fraction})")
        bad = [f for f in self.families if f not in ATTACKS or not self.strengths.get(f)]
        if bad:
            raise InputError(f"families {bad} are not attacks with strengths ({ATTACKS})")


def _episode_setup(rng: np.random.Generator, opts: DatasetOptions) -> tuple[BB84Setup, float]:
    d = float(rng.uniform(*opts.distance_km))
    ch = ChannelModel(
        attenuation_db_per_km=DEFAULT_CHANNEL.attenuation_db_per_km,
        eta_bob=DEFAULT_CHANNEL.eta_bob * float(rng.uniform(0.8, 1.1)),
        y0=DEFAULT_CHANNEL.y0 * float(rng.uniform(0.5, 3.0)),
        e_detector=float(rng.uniform(0.015, 0.04)),
        afterpulse_probability=float(rng.uniform(0.0, 0.02)),
    )
    return BB84Setup.from_distance(d, channel=ch), d


def iter_episodes(
    n_episodes: int,
    *,
    rng: np.random.Generator,
    options: DatasetOptions | None = None,
    episode_blocks: int | None = None,
    block_pulses: int | None = None,
    first_episode: int = 0,
) -> Iterator[list[dict[str, Any]]]:
    """Yield the rows of one episode at a time (memory bounded by one episode).

    ``episode_blocks`` / ``block_pulses`` override ``options``. Everything random comes
    from ``rng``: the same seed gives the same rows.
    """
    opts = options if options is not None else DatasetOptions()
    if episode_blocks is not None or block_pulses is not None:
        opts = DatasetOptions(
            episode_blocks=episode_blocks or opts.episode_blocks,
            block_pulses=block_pulses or opts.block_pulses,
            distance_km=opts.distance_km,
            attack_fraction=opts.attack_fraction,
            families=opts.families,
            strengths=opts.strengths,
        )
    if n_episodes < 0:
        raise InputError(f"n_episodes must be >= 0 (got {n_episodes})")
    nb, npulse = opts.episode_blocks, opts.block_pulses
    for e in range(n_episodes):
        setup, dist = _episode_setup(rng, opts)
        family: str | None = None
        strength = 0.0
        onset = nb
        if opts.families and rng.random() < opts.attack_fraction:
            family = opts.families[int(rng.integers(len(opts.families)))]
            grid = opts.strengths[family]
            strength = float(grid[int(rng.integers(len(grid)))])
            onset = int(rng.integers(nb // 4, (3 * nb) // 4 + 1))
        spec = AttackSpec(family, strength) if family else None
        schedule = [spec if i >= onset else None for i in range(nb)]
        jitter = float(rng.uniform(40.0, 60.0))
        offset = float(rng.normal(0.0, 5.0))
        baseline = float(rng.uniform(0.8, 1.2))
        rows = []
        blocks = iter_blocks(
            setup, pulses=nb * npulse, rng=rng, block_pulses=npulse, block_attacks=schedule
        )
        for i, blk in enumerate(blocks):
            offset += float(rng.normal(0.0, 1.0))
            baseline += float(rng.normal(0.0, 0.01))
            cond = TelemetryConditions(
                timing_jitter_ps=jitter, timing_offset_ps=offset, monitor_baseline_nw=baseline
            )
            row = telemetry_features(blk, mu=setup.mu, nu=setup.nu, rng=rng, conditions=cond)
            attacked = i >= onset
            row.update(
                episode=first_episode + e,
                block=i,
                time_s=i * npulse / PULSE_RATE_HZ,
                label=family if attacked and family else "none",
                strength=strength if attacked else 0.0,
                attacked=bool(attacked and family),
                onset_block=onset if family else -1,
                distance_km=dist,
            )
            rows.append({k: row[k] for k in (*META_COLUMNS, *TELEMETRY_FEATURE_NAMES)})
        yield rows


def rows_to_arrays(rows: list[dict[str, Any]]) -> dict[str, NDArray[Any]]:
    """Column arrays of rows (features float64; meta columns in their natural dtype)."""
    out: dict[str, NDArray[Any]] = {}
    for name in (*META_COLUMNS, *TELEMETRY_FEATURE_NAMES):
        vals = [r[name] for r in rows]
        if name == "label":
            out[name] = np.array(vals, dtype=str)
        elif name == "attacked":
            out[name] = np.array(vals, dtype=bool)
        elif name in ("episode", "block", "onset_block", "n_pulses"):
            out[name] = np.array(vals, dtype=np.int64)
        else:
            out[name] = np.array(vals, dtype=np.float64)
    return out


def make_dataset(
    n_episodes: int, *, rng: np.random.Generator, options: DatasetOptions | None = None
) -> dict[str, NDArray[Any]]:
    """All rows of ``n_episodes`` episodes as column arrays (:func:`rows_to_arrays`)."""
    rows = [r for ep in iter_episodes(n_episodes, rng=rng, options=options) for r in ep]
    return rows_to_arrays(rows)
