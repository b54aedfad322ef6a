"""Logical (error-corrected) memories: the rate -> t_coh_s conversion against closed forms and
density matrices, the measured rates, up-front refusals and field paths."""

from __future__ import annotations

import json
import math

import numpy as np
import pytest

from qnetai.cli.main import main
from qnetai.config.models import LogicalMemorySpec, Scenario
from qnetai.errors import InputError
from qnetai.qec.memory import (
    MAX_LOGICAL_MEMORY_CPU_S,
    apply_logical_memories,
    check_logical_memory,
    depolarising_factor_per_round,
    estimate_cpu_s,
    measure_logical_rates,
    physical_t_coh_s,
    t_coh_from_rates,
)

I2 = np.eye(2)
X = np.array([[0, 1], [1, 0]], dtype=complex)
Y = np.array([[0, -1j], [1j, 0]])
Z = np.diag([1.0, -1.0]).astype(complex)
PHI = np.array([1, 0, 0, 1], dtype=complex) / math.sqrt(2)


def pauli_on_both_halves(rho, probs, rounds):
    """Apply the one-qubit Pauli channel ``probs = (pI, pX, pY, pZ)`` ``rounds`` times to each
    half of a two-qubit density matrix (an independent calculation on 4x4 matrices)."""
    ops = (I2, X, Y, Z)
    for _ in range(rounds):
        for half in (0, 1):
            out = np.zeros_like(rho)
            for p, op in zip(probs, ops, strict=True):
                k = np.kron(op, I2) if half == 0 else np.kron(I2, op)
                out += p * k @ rho @ k.conj().T
            rho = out
    return rho


def fidelity(rho):
    return float(np.real(PHI.conj() @ rho @ PHI))


def logical_pauli(r_x, r_z):
    """The stated model: independent X-type (rate r_z) and Z-type (rate r_x) logical errors."""
    px, pz, py = r_z * (1 - r_x), r_x * (1 - r_z), r_x * r_z
    return (1 - px - py - pz, px, py, pz)


def engine_pair_fidelity(t_coh_s, dt_s):
    """The engine's depolarising memories on both ends: ``(1 + 3 exp(-dt / t_coh)) / 4``."""
    return (1.0 + 3.0 * math.exp(-dt_s / t_coh_s)) / 4.0


@pytest.mark.parametrize("r_x,r_z", [(1e-4, 1e-4), (3e-3, 1e-3), (0.02, 0.0), (0.0, 0.05)])
def test_one_round_on_one_half_matches_the_pauli_channel_exactly(r_x, r_z):
    # the engine keeps exp(-dt / (2 t_coh)) per half: after one cycle on one half the pair's
    # fidelity (1 + 3 e) / 4 is the logical channel's entanglement fidelity F1, exactly
    cycle = 1e-6
    t = t_coh_from_rates(r_x, r_z, cycle_time_s=cycle)
    assert t is not None
    e_engine = math.exp(-cycle / (2.0 * t))
    assert e_engine == pytest.approx(depolarising_factor_per_round(r_x, r_z), rel=1e-12)
    rho = np.outer(PHI, PHI.conj())
    ops = (I2, X, Y, Z)
    probs = logical_pauli(r_x, r_z)
    rho1 = sum(
        p * np.kron(op, I2) @ rho @ np.kron(op, I2).conj().T
        for p, op in zip(probs, ops, strict=True)
    )
    assert (1 + 3 * e_engine) / 4 == pytest.approx(fidelity(rho1), abs=1e-12)
    assert fidelity(rho1) == pytest.approx((1 - r_x) * (1 - r_z), abs=1e-14)


@pytest.mark.parametrize("r_x,r_z", [(1e-4, 1e-4), (5e-4, 2e-4), (2e-3, 2e-3)])
@pytest.mark.parametrize("rounds", [1, 10, 200])
def test_engine_decay_is_conservative_and_first_order_exact(r_x, r_z, rounds):
    cycle = 1e-6
    t = t_coh_from_rates(r_x, r_z, cycle_time_s=cycle)
    assert t is not None
    engine = engine_pair_fidelity(t, rounds * cycle)
    rho = pauli_on_both_halves(np.outer(PHI, PHI.conj()), logical_pauli(r_x, r_z), rounds)
    exact = fidelity(rho)
    cx, cz = 1 - 2 * r_x, 1 - 2 * r_z
    closed = (1 + cx ** (2 * rounds) + (cx * cz) ** (2 * rounds) + cz ** (2 * rounds)) / 4
    assert exact == pytest.approx(closed, abs=1e-12)  # the density matrix and the closed form
    assert engine <= exact + 1e-15  # never optimistic
    n_r = rounds * (r_x + r_z)
    assert exact - engine <= 2.0 * n_r**2 + 1e-15  # second order in n r


def test_t_coh_closed_form_and_edges():
    r_x, r_z, cycle = 2e-4, 1e-4, 2e-6
    e = 1 - 4 / 3 * (r_x + r_z - r_x * r_z)
    assert t_coh_from_rates(r_x, r_z, cycle_time_s=cycle) == pytest.approx(
        -cycle / (2 * math.log(e)), rel=1e-12
    )
    assert t_coh_from_rates(0.0, 0.0, cycle_time_s=cycle) is None
    with pytest.raises(InputError, match="no coherence"):
        t_coh_from_rates(0.5, 0.5, cycle_time_s=cycle)
    with pytest.raises(InputError, match="r_x"):
        t_coh_from_rates(0.7, 0.0, cycle_time_s=cycle)


def test_physical_memory_is_a_bare_depolarised_qubit():
    # DEPOLARIZE1(p) per cycle on each half: X, Y, Z with p/3 each
    p, cycle, rounds = 1e-3, 1e-6, 50
    t = physical_t_coh_s(p, cycle_time_s=cycle)
    rho = pauli_on_both_halves(np.outer(PHI, PHI.conj()), (1 - p, p / 3, p / 3, p / 3), rounds)
    assert engine_pair_fidelity(t, rounds * cycle) == pytest.approx(fidelity(rho), abs=1e-12)
    with pytest.raises(InputError):
        physical_t_coh_s(0.0, cycle_time_s=cycle)


def test_d5_logical_memory_outlives_the_physical_one():
    # d=5 at p = 0.1 %: even the 95 % upper bounds of the measured rates store far longer
    spec = LogicalMemorySpec(distance=5, physical_error_rate=0.001, shots=20_000, seed=3)
    r = measure_logical_rates(spec)
    upper = measure_logical_rates(spec.model_copy(update={"estimate": "upper"}))
    assert r.rounds == 5 and r.x_basis == "measured"
    assert r.r_z_ci[0] <= r.r_z <= r.r_z_ci[1] and r.r_x_ci[0] <= r.r_x <= r.r_x_ci[1]
    assert upper.r_x == r.r_x_ci[1] and upper.r_z == r.r_z_ci[1]
    assert upper.t_coh_s is not None
    assert r.t_coh_s is None or r.t_coh_s >= upper.t_coh_s
    assert upper.t_coh_s > 3 * r.physical_t_coh_s
    # fidelity of a stored pair after 1 ms (1000 rounds): closed-form decays
    dt = 1e-3
    f_logical = engine_pair_fidelity(upper.t_coh_s, dt)
    f_physical = engine_pair_fidelity(r.physical_t_coh_s, dt)
    assert f_logical > 0.6 > 0.35 > f_physical
    # the physical memory: (1 + 3 (1 - 4p/3)^(2n)) / 4, independently
    assert f_physical == pytest.approx((1 + 3 * (1 - 4e-3 / 3) ** 2000) / 4, rel=1e-12)


def test_measurement_is_deterministic_and_cached():
    spec = LogicalMemorySpec(distance=3, physical_error_rate=0.003, shots=4000, seed=11)
    a = measure_logical_rates(spec)
    b = measure_logical_rates(LogicalMemorySpec(**spec.model_dump()))
    assert a == b
    other = measure_logical_rates(spec.model_copy(update={"seed": 12}))
    assert (other.errors_x, other.errors_z) != (a.errors_x, a.errors_z) or other.seed == 12


@pytest.mark.parametrize("decoder", ["matching-correlated", "lookup", "neural"])
def test_each_decoder_measures_d3(decoder):
    spec = LogicalMemorySpec(
        distance=3, decoder=decoder, physical_error_rate=0.003, shots=2000, seed=1
    )
    r = measure_logical_rates(spec)
    assert 0 < r.r_z < 0.05
    if decoder == "neural":
        assert r.x_basis.startswith("assumed") and r.r_x == r.r_z
    else:
        assert r.x_basis == "measured"


def test_refusals_name_the_field():
    with pytest.raises(InputError, match=r"memory\.logical\.decoder: 'lookup' needs at most"):
        check_logical_memory(LogicalMemorySpec(distance=5, decoder="lookup"))
    with pytest.raises(InputError, match=r"decoder: no shipped learned decoder"):
        check_logical_memory(LogicalMemorySpec(distance=7, decoder="neural"))
    big = LogicalMemorySpec(distance=5, decoder="neural", shots=1_000_000)
    assert estimate_cpu_s(big) > MAX_LOGICAL_MEMORY_CPU_S
    with pytest.raises(InputError, match=r"shots: .* CPU s"):
        check_logical_memory(big)


def test_apply_sets_t_coh_on_nodes_and_topology_template():
    sc = Scenario.model_validate(
        {
            "topology": {
                "builder": "line",
                "nodes": 3,
                "node": {"memory": {"logical": {"distance": 3, "shots": 2000}}},
            },
            "nodes": [{"name": "X", "memory": {"t_coh_s": 0.5}}],
        }
    )
    new, summary = apply_logical_memories(sc)
    assert summary is not None and len(summary["memories"]) == 1
    mem = summary["memories"][0]
    assert mem["nodes"] == ["topology.node"]
    assert new.topology is not None and new.topology.node is not None
    assert new.topology.node.memory.t_coh_s == mem["t_coh_s"]
    assert new.nodes[0].memory.t_coh_s == 0.5
    plain = Scenario.model_validate({"nodes": [{"name": "A"}]})
    assert apply_logical_memories(plain) == (plain, None)


BAD = """name: bad
nodes:
  - {name: A, memory: {logical: {distance: 4, physical_error_rate: 0.2}}}
  - {name: B, memory: {logical: {code: repetition}}}
links: [{endpoints: [A, B], length_km: 10}]
"""

COSTLY = """name: costly
nodes:
  - {name: A, memory: {logical: {distance: 5, decoder: lookup}}}
  - {name: B}
links: [{endpoints: [A, B], length_km: 10}]
"""


@pytest.mark.parametrize(
    "text,paths",
    [
        (
            BAD,
            [
                "nodes[0].memory.logical.distance",
                "nodes[0].memory.logical.physical_error_rate",
                "nodes[1].memory.logical",
            ],
        ),
        (COSTLY, ["nodes[0].memory.logical.decoder"]),
    ],
)
def test_cli_exits_2_with_field_paths(tmp_path, capsys, text, paths):
    path = tmp_path / "s.yaml"
    path.write_text(text)
    for args in (
        ["scenario", "validate", str(path)],
        ["run", str(path), "-o", str(tmp_path / "r")],
    ):
        with pytest.raises(SystemExit) as info:
            main(args)
        assert info.value.code == 2
        err = capsys.readouterr().err
        assert "Traceback" not in err
        for p in paths:
            assert p in err
    assert not (tmp_path / "r").exists()


GOOD = """name: small-logical
duration_s: 0.02
controller: {routing: shortest-path}
nodes:
  - {name: A, memory: {logical: &m {distance: 3, shots: 2000}}}
  - {name: B, memory: {logical: *m}}
  - {name: C, memory: {logical: *m}}
links:
  - {endpoints: [A, B], length_km: 5}
  - {endpoints: [B, C], length_km: 5}
traffic:
  requests: [{source: A, destination: C, count: 5, min_fidelity: 0.0}]
"""


def test_cli_run_prints_and_records_the_logical_memory(tmp_path, capsys):
    path = tmp_path / "s.yaml"
    path.write_text(GOOD)
    try:
        main(["run", str(path), "-o", str(tmp_path / "r"), "--no-report"])
    except SystemExit as exc:
        assert exc.code in (0, None)
    out = capsys.readouterr().out
    assert "logical memory (3 nodes): surface d=3 matching" in out
    summary = json.loads((tmp_path / "r" / "summary.json").read_text())
    mem = summary["logical_memory"]["memories"][0]
    assert mem["nodes"] == ["A", "B", "C"] and mem["shots"] == 2000


def test_missing_qec_extra_is_a_clear_input_error(monkeypatch):
    import qnetai._optional as optional

    def missing(module, *, extra, package=None):
        raise optional.MissingExtraError(f"{module!r} is needed: pip install 'qnetai[{extra}]'")

    monkeypatch.setattr(optional, "require", missing)
    with pytest.raises(InputError, match=r"nodes\[0\]\.memory\.logical: 'stim' .*qnetai\[qec\]"):
        apply_logical_memories(
            Scenario.model_validate({"nodes": [{"name": "A", "memory": {"logical": {}}}]})
        )
