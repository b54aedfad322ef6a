"""One way in: :func:`run_scenario` runs what ``qnetai run`` runs, for every caller.

The CLI, the results writer, a service, sweeps and notebooks all call these functions, so a
library user gets exactly what the command produces:

- :func:`run_scenario`: load (a :class:`~qnetai.config.models.Scenario`, a file path or a
  built-in name), check (:func:`check_runnable`), resolve the routing policy
  (:func:`qnetai.plugins.routing_policy`, with the caller's own ``policies``), simulate, run
  the key network on the result (its random numbers come from the scenario seed and
  :data:`QKD_SEED_TAG`) and return a :class:`RunResult` (summary, tables, key network);
- :func:`simulate`: the simulation alone, the policy resolved the same way;
- :func:`check_runnable`: every check ``qnetai scenario validate`` and ``qnetai run`` make;
- :func:`describe_scenario` / :func:`link_figures`: what ``qnetai scenario show`` prints, the
  link figures read from the engine's own link models.

Writing a run folder and rendering the report are the callers' steps
(:func:`qnetai.results.write_run`, :func:`qnetai.report.render_html`).

Example:
    >>> run = run_scenario("metro-6g", seed=1)
    >>> run.summary["pairs_delivered"] > 0, "qkd_relay" in run.tables
    (True, True)
"""

from __future__ import annotations

import math
import os
from collections.abc import Callable, Mapping
from dataclasses import dataclass
from typing import TYPE_CHECKING, Any

from qnetai.config.models import MAX_SEED, Scenario
from qnetai.errors import InputError

if TYPE_CHECKING:
    from qnetai.qkd.network import KeyNetworkResult
    from qnetai.sim.linklayer import LinkModel
    from qnetai.sim.result import SimulationResult
    from qnetai.sim.routing import RoutingPolicy
    from qnetai.tomography.in_simulator import RunVerification

#: Tag mixed into the scenario seed for the key network's random numbers (independent of
#: the engine's stream): ``numpy.random.default_rng([seed, QKD_SEED_TAG])``.
QKD_SEED_TAG = 0x514B44

ScenarioRef = Scenario | str | os.PathLike[str]


def load(scenario: ScenarioRef) -> Scenario:
    """``scenario`` itself, or the scenario of a file path or built-in name.

    Example:
        >>> load("metro-6g").name
        'metro-6g'
    """
    if isinstance(scenario, Scenario):
        return scenario
    if isinstance(scenario, str | os.PathLike):
        from qnetai.config import load_scenario

        return load_scenario(os.fspath(scenario))
    raise InputError(
        f"scenario must be a Scenario, a file path or a built-in name (got "
        f"{type(scenario).__name__})"
    )


def with_seed(scenario: Scenario, seed: int | None) -> Scenario:
    """``scenario`` with its ``seed`` replaced (validated), or unchanged for ``None``.

    Example:
        >>> with_seed(load("metro-6g"), 7).seed
        7
    """
    if seed is None:
        return scenario
    if isinstance(seed, bool) or not isinstance(seed, int) or not 0 <= seed < MAX_SEED:
        raise InputError(f"seed must be an integer in [0, 2**63) (got {seed!r})")
    return scenario.model_copy(update={"seed": int(seed)})


def _check_links_and_requests(resolved: Scenario) -> None:
    """The link checks the engine makes when it starts (same function, same messages)."""
    from qnetai.sim.linklayer import build_link_model
    from qnetai.topology.runnable import attempt_periods_s

    nodes = {n.name: n for n in resolved.nodes}
    periods = attempt_periods_s(resolved)
    for i, period in enumerate(periods.tolist()):
        if not period > 0:
            spec = resolved.links[i]
            a, b = spec.endpoints
            build_link_model(  # raises the engine's InputError (attempt_rate_hz needed)
                i,
                spec,
                nodes[a],
                nodes[b],
                speed_km_per_s=resolved.classical.speed_km_per_s,
                processing_delay_s=resolved.classical.processing_delay_s,
            )


def check_runnable(
    scenario: ScenarioRef,
    *,
    allow_large: bool = False,
    policies: Mapping[str, Any] | None = None,
    allow_plugins: bool = False,
) -> Scenario:
    """Every check ``qnetai run`` makes before simulating; returns the resolved scenario.

    Raises :class:`~qnetai.errors.InputError` (the CLI exits with code 2) for: a topology or
    workload above :data:`qnetai.topology.WORK_LIMITS` (unless ``allow_large``), unresolvable
    references, a network of fewer than two nodes, a routing policy that cannot be resolved
    (built-in, ``rl:`` model, one of ``policies``, an import path or an entry point; see
    :func:`qnetai.plugins.check_routing_policy`), a bad ``qkd`` section, a link of zero
    attempt period, an error-corrected memory (``memory.logical``) whose decoder does not apply
    or whose rate measurement would cost too much. An import-path policy (``pkg.module:Class``)
    named by the scenario is imported only with ``allow_plugins=True``: a scenario file is
    data, importing runs code.

    Example:
        >>> check_runnable("metro-6g").name
        'metro-6g'
    """
    from qnetai.plugins import check_routing_policy
    from qnetai.qkd.network import check_key_network
    from qnetai.topology.runnable import check_topology, check_work

    resolved = check_topology(load(scenario), allow_large=allow_large, work=False)
    check_routing_policy(
        resolved.controller.routing, custom=policies, allow_import_paths=allow_plugins
    )
    if resolved.controller.memory_allocation is not None:
        from qnetai.plugins import memory_allocator

        memory_allocator(  # built-ins are cheap to build: their options are checked too
            resolved.controller.memory_allocation,
            options=resolved.controller.memory_allocation_options,
            allow_import_paths=allow_plugins,
        )
    check_key_network(resolved)
    if resolved.incidents or resolved.monitoring is not None:
        _alerts_module().check_incidents(resolved)
    _check_links_and_requests(resolved)
    check_work(resolved, allow_large=allow_large)
    from qnetai.qec.memory import check_logical_memories

    check_logical_memories(resolved)  # error-corrected memories: cost, decoder, [qec] extra
    return resolved


def routing_policy_of(
    scenario: Scenario,
    *,
    policies: Mapping[str, Any] | None = None,
    allow_plugins: bool = False,
) -> RoutingPolicy:
    """The routing policy object of ``scenario.controller`` (name, ``path_metric``).

    An import-path policy is imported only with ``allow_plugins=True`` (see
    :func:`check_runnable`).

    Example:
        >>> routing_policy_of(load("metro-6g")).name.startswith("rl:")
        True
    """
    from qnetai.plugins import routing_policy

    ctl = scenario.controller
    return routing_policy(
        ctl.routing,
        options={"metric": ctl.path_metric},
        custom=policies,
        allow_import_paths=allow_plugins,
    )


def simulate(
    scenario: ScenarioRef,
    *,
    seed: int | None = None,
    policies: Mapping[str, Any] | None = None,
    progress: Callable[[float], Any] | None = None,
    allow_plugins: bool = False,
    allocators: Mapping[str, Any] | None = None,
) -> SimulationResult:
    """Simulate a scenario (object, file path or built-in name); its ``SimulationResult``.

    The routing policy is ``controller.routing`` resolved by :func:`qnetai.plugins.
    routing_policy` with the caller's own ``policies`` (an import path only with
    ``allow_plugins=True``); ``seed`` overrides the scenario's. ``controller.
    memory_allocation`` (if set) is resolved by :func:`qnetai.plugins.memory_allocator`, with
    the caller's own ``allocators`` by name.
    The key network is not run (that is :func:`run_scenario`).

    Example:
        >>> simulate("metro-6g", seed=1).summary["requests_total"] > 0
        True
    """
    from qnetai.sim import simulate as engine_simulate

    sc = with_seed(load(scenario), seed)
    from qnetai.qec.memory import apply_logical_memories

    sc, logical = apply_logical_memories(sc)  # measured logical rates -> memories' t_coh_s
    policy = routing_policy_of(sc, policies=policies, allow_plugins=allow_plugins)
    allocator = None
    if sc.controller.memory_allocation is not None:
        from qnetai.plugins import memory_allocator

        allocator = memory_allocator(
            sc.controller.memory_allocation,
            options=sc.controller.memory_allocation_options,
            custom=allocators,
            allow_import_paths=allow_plugins,
        )
    ver = sc.verification
    if ver is not None and ver.feed_controllers:  # policies read estimated link fidelities
        import numpy as np

        from qnetai.tomography.in_simulator import (
            CALIBRATION_SEED_TAG,
            EstimatedLinks,
            calibrate_links,
        )

        cal = calibrate_links(
            sc, ver, rng=np.random.default_rng([int(sc.seed), CALIBRATION_SEED_TAG])
        )
        policy = EstimatedLinks(policy, cal.fidelity)
    result = engine_simulate(
        sc, seed=sc.seed, policy=policy, progress=progress, allocator=allocator
    )
    if logical is None:
        return result
    import dataclasses

    return dataclasses.replace(result, summary={**result.summary, "logical_memory": logical})


@dataclass(frozen=True)
class RunResult:
    """What one run produces: the simulation, the key network, summary and tables.

    ``simulation`` is the engine's :class:`~qnetai.sim.SimulationResult` (its ``scenario`` is
    the resolved scenario, with the seed used), ``key_network`` the
    :class:`~qnetai.qkd.network.KeyNetworkResult`. ``tables`` holds every table under its
    run-folder name (the engine's, then ``qkd_<table>``). The attributes the report sections
    read (``scenario``, ``summary``, the engine tables, ``extra_tables``, ``qkd_summary``) are
    those of :class:`qnetai.results.RunView`, so :func:`qnetai.report.render_html` takes it.
    """

    simulation: SimulationResult
    key_network: KeyNetworkResult
    verification: RunVerification | None = None
    monitoring: Any = None  # qnetai.ai.security.alerts.MonitoringResult (None: off)

    @property
    def scenario(self) -> Scenario:
        """The resolved scenario that ran (with its seed)."""
        return self.simulation.scenario

    @property
    def seed(self) -> int:
        """The seed of the run."""
        return int(self.simulation.scenario.seed)

    @property
    def summary(self) -> dict[str, Any]:
        """The engine's summary figures (and verification's and the alerts' counts, when on)."""
        if self.verification is None and self.monitoring is None:
            return self.simulation.summary
        ver = {} if self.verification is None else self.verification.summary
        mon = {} if self.monitoring is None else self.monitoring.counts()
        return {**self.simulation.summary, **ver, **mon}

    @property
    def verification_tables(self) -> dict[str, Any]:
        """``verification_pairs`` and ``verification_links`` (empty when verification is off)."""
        return {} if self.verification is None else self.verification.tables()

    @property
    def qkd_summary(self) -> dict[str, Any]:
        """The key network's summary."""
        return dict(self.key_network.summary)

    @property
    def extra_tables(self) -> dict[str, Any]:
        """The key network's tables (``qkd_<table>``), then the verification tables."""
        qkd = {f"qkd_{name}": t for name, t in self.key_network.tables().items()}
        alerts = {} if self.monitoring is None else {"alerts": self.monitoring.table()}
        return {**qkd, **self.verification_tables, **alerts}

    @property
    def tables(self) -> dict[str, Any]:
        """Every table: the engine's (``requests``, ``deliveries``, ...) then ``qkd_*``."""
        from qnetai.sim.result import TABLE_NAMES

        return {
            **{n: getattr(self.simulation, n) for n in TABLE_NAMES},
            **self.extra_tables,
        }

    def __getattr__(self, name: str) -> Any:
        """The engine tables (``requests``, ``deliveries``, ``links``, ...) by attribute."""
        if name.startswith("_"):
            raise AttributeError(name)
        from qnetai.sim.result import TABLE_NAMES

        if name in TABLE_NAMES:
            return getattr(self.simulation, name)
        raise AttributeError(f"RunResult has no attribute {name!r}")

    def to_dict(self) -> dict[str, Any]:
        """Plain data: scenario name, seed, summary, link rows and the key network's dict."""
        out = {
            "scenario": self.scenario.name,
            "seed": self.seed,
            "summary": dict(self.summary),
            "links": self.simulation.links.to_pylist(),
            "qkd": self.key_network.to_dict(),
        }
        if self.verification is not None:
            out["verification"] = {
                "pairs": self.verification.pairs.to_pylist(),
                "links": self.verification.links.to_pylist(),
            }
        if self.monitoring is not None:
            out["monitoring"] = self.monitoring.to_dict()
        return out


def key_network(result: SimulationResult) -> KeyNetworkResult:
    """The key network run on a simulation result (seeded by its scenario seed)."""
    import numpy as np

    from qnetai.qkd.network import simulate_key_network

    rng = np.random.default_rng([int(result.scenario.seed), QKD_SEED_TAG])
    return simulate_key_network(result.scenario, result, rng=rng)


def run_scenario(
    scenario: ScenarioRef,
    *,
    seed: int | None = None,
    policies: Mapping[str, Any] | None = None,
    allow_large: bool = False,
    progress: Callable[[float], Any] | None = None,
    allow_plugins: bool = False,
) -> RunResult:
    """Check, simulate and run the key network of a scenario: what ``qnetai run`` produces.

    ``scenario``: a Scenario, a file path or a built-in name; ``seed`` overrides its seed;
    ``policies`` maps names to the caller's own routing policies (or factories) for this
    call; ``allow_large`` accepts work above the limits; ``allow_plugins`` lets the scenario
    name an import-path policy (``pkg.module:Class``: importing it runs its code);
    ``progress(fraction_done)`` is called as the simulation advances.

    Example:
        >>> run = run_scenario("metro-6g", seed=3)
        >>> run.seed, run.to_dict()["qkd"]["summary"]["enabled"]
        (3, True)
    """
    sc = with_seed(load(scenario), seed)
    check_runnable(sc, allow_large=allow_large, policies=policies, allow_plugins=allow_plugins)
    result = simulate(sc, policies=policies, progress=progress, allow_plugins=allow_plugins)
    keys = key_network(result)
    return RunResult(
        simulation=result,
        key_network=keys,
        verification=verification_of(result),
        monitoring=monitor(result, keys),
    )


#: Tag mixed into the scenario seed for the link monitoring's random numbers.
MONITOR_SEED_TAG = 0x414C5254


def _alerts_module() -> Any:
    """:mod:`qnetai.ai.security.alerts`, or an InputError naming the extra it needs."""
    try:
        from qnetai.ai.security import alerts
    except ImportError as exc:
        raise InputError(
            f"incidents and monitoring need the [ai] extra: pip install 'qnetai[ai]' ({exc})"
        ) from exc
    return alerts


def monitor(result: SimulationResult, keys: KeyNetworkResult) -> Any:
    """Alerts of the scenario's QKD link monitoring (None when it has none configured).

    Seeded by the scenario seed and :data:`MONITOR_SEED_TAG`, independent of the engine.
    """
    import numpy as np

    sc = result.scenario
    if not sc.incidents and sc.monitoring is None:
        return None
    rng = np.random.default_rng([int(sc.seed), MONITOR_SEED_TAG])
    return _alerts_module().monitor_key_network(sc, keys, rng=rng)


def verification_of(result: SimulationResult) -> RunVerification | None:
    """The scenario's ``verification`` of a simulation result (None when it is off).

    Seeded by the scenario seed and
    :data:`~qnetai.tomography.in_simulator.VERIFY_SEED_TAG`, independent of the engine.
    """
    spec = result.scenario.verification
    if spec is None:
        return None
    import numpy as np

    from qnetai.tomography.in_simulator import (
        CALIBRATION_SEED_TAG,
        VERIFY_SEED_TAG,
        calibrate_links,
        verify_run,
    )

    seed = int(result.scenario.seed)
    cal = None
    if spec.feed_controllers:  # the same calibration the policy was fed (same stream)
        cal = calibrate_links(
            result.scenario, spec, rng=np.random.default_rng([seed, CALIBRATION_SEED_TAG])
        )
    return verify_run(
        result, spec, rng=np.random.default_rng([seed, VERIFY_SEED_TAG]), calibration=cal
    )


# ----------------------------------------------------------------------------- description


def link_figures(model: LinkModel) -> dict[str, float]:
    """Display figures of one engine :class:`~qnetai.sim.linklayer.LinkModel`.

    Keys: ``transmittance`` and ``loss_db`` (the channel, loss variation at zero),
    ``p_attempt`` (per attempt and channel, memory efficiencies included: what the engine
    draws), ``p_success_per_round`` (one round of all ``multiplexing`` channels; formerly
    ``p_success``, renamed so that ``p_success`` means per attempt everywhere, as in
    ``links.parquet``), ``herald_fidelity``,
    ``attempt_s``, ``attempt_rate_hz`` and ``rate_hz`` (expected pairs per second while
    memories are free).

    Example:
        >>> from qnetai.control.engine_policies import engine_link_models
        >>> lm = next(iter(engine_link_models(load("metro-6g")).values()))
        >>> sorted(link_figures(lm))[:3]
        ['attempt_rate_hz', 'attempt_s', 'herald_fidelity']
    """
    from qnetai.topology.channels import link_transmittance

    eta = float(link_transmittance(model.spec))
    rate = 1.0 / model.attempt_s if model.attempt_s > 0 else math.inf
    return {
        "transmittance": eta,
        "loss_db": -10.0 * math.log10(eta) if eta > 0 else math.inf,
        "p_attempt": float(model.p_success),
        "p_success_per_round": float(model.round_success),
        "herald_fidelity": float(model.state[0]),  # Bell-diagonal: Phi+ weight
        "attempt_s": float(model.attempt_s),
        "attempt_rate_hz": rate,
        "rate_hz": rate * float(model.round_success),
    }


def describe_scenario(scenario: ScenarioRef, *, resolved: bool = False) -> dict[str, Any]:
    """Everything ``qnetai scenario show`` prints, as plain data.

    Keys: ``summary`` (:func:`qnetai.topology.summarise`), ``scenario`` (the scenario,
    resolved if asked, as a JSON-compatible dict with every default filled in) and
    ``links_derived`` (one dict per link of ``scenario`` as shown: ``link`` name plus
    :func:`link_figures` of the engine's link model of it).

    Example:
        >>> info = describe_scenario("metro-6g")
        >>> info["links_derived"][0]["p_success_per_round"] > 0
        True
    """
    from qnetai.control.engine_policies import engine_link_models
    from qnetai.topology import resolve, summarise

    sc = load(scenario)
    full = resolve(sc)
    # without topology: resolving only names the links (and checks the references)
    shown = full if resolved or sc.topology is None else sc
    models = engine_link_models(full)
    derived = []
    for link in shown.links:
        a, b = link.endpoints
        name = link.name or f"{a}-{b}"
        derived.append({"link": name, **link_figures(models[(a, b)])})
    return {
        "summary": summarise(sc),
        "scenario": shown.model_dump(mode="json"),
        "links_derived": derived,
    }


__all__ = [
    "QKD_SEED_TAG",
    "RunResult",
    "check_runnable",
    "describe_scenario",
    "key_network",
    "link_figures",
    "load",
    "monitor",
    "routing_policy_of",
    "run_scenario",
    "simulate",
    "verification_of",
    "with_seed",
]
