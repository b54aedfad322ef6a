"""An evolved (or any) purification circuit as the purification protocol of the engine.

``operations.purification.protocol: circuit`` with ``circuit`` (inline, the JSON of
:meth:`qnetai.physics.purification_circuits.Circuit.to_dict`) or ``circuit_file`` (a file
saved by ``qnetai optimise purification --out``; read as inert JSON, at most 1 MB). The
engine's generation process of a link collects the circuit's ``raw_pairs`` heralded pairs
(all held in memory: the engine reserves ``raw_pairs`` qubits per link end, it does not reuse
registers as the circuit may), decoheres each to the present, and applies the circuit once
per round with the scenario's gate fidelity and measurement error
(:func:`qnetai.physics.purification_circuits.simulate_loads`); the outcome is known after one
classical round trip of the link, as with BBPSSW/DEJMPS pumping.

Example:
    >>> from qnetai.physics.purification_circuits import dejmps_pumping
    >>> purify, n = circuit_purifier(dejmps_pumping(2).to_dict(), None, 1.0, 0.0)
    >>> out, p = purify([(0.9, 0.1 / 3, 0.1 / 3, 0.1 / 3)] * 2)
    >>> n, round(out[0], 4), round(p, 4)
    (2, 0.9264, 0.8756)
"""

from __future__ import annotations

import json
from collections.abc import Callable
from pathlib import Path
from typing import Any

from qnetai.errors import InputError
from qnetai.physics.purification_circuits import Circuit, NoiseModel, simulate_loads

#: Largest circuit file read (bytes).
MAX_CIRCUIT_FILE_BYTES = 1_000_000
Bell = tuple[float, float, float, float]
CircuitPurify = Callable[[list[Bell]], tuple[Bell, float]]
_WHERE = "operations.purification"


def load_circuit(inline: dict[str, Any] | None, path: str | None) -> Circuit:
    """The circuit given inline or in a file; errors name the scenario field."""
    if inline is not None:
        return Circuit.from_dict(inline, where=f"{_WHERE}.circuit")
    if path is None:
        raise InputError(f"{_WHERE}: protocol 'circuit' needs circuit or circuit_file")
    p = Path(path)
    try:
        size = p.stat().st_size
        if size > MAX_CIRCUIT_FILE_BYTES:
            raise InputError(
                f"{_WHERE}.circuit_file: {path} is {size} bytes (at most {MAX_CIRCUIT_FILE_BYTES})"
            )
        data = json.loads(p.read_text(encoding="utf-8"))
    except OSError as exc:
        raise InputError(
            f"{_WHERE}.circuit_file: cannot read {path}: {exc.strerror or exc}"
        ) from None
    except (json.JSONDecodeError, UnicodeDecodeError) as exc:
        raise InputError(f"{_WHERE}.circuit_file: {path} is not JSON ({exc})") from None
    return Circuit.from_dict(data, where=f"{_WHERE}.circuit_file")


def circuit_purifier(
    inline: dict[str, Any] | None,
    path: str | None,
    gate_fidelity: float,
    measurement_error: float,
) -> tuple[CircuitPurify, int]:
    """``(purify, raw_pairs)``: ``purify(states) -> (state, p_success)`` on Bell 4-tuples."""
    circuit = load_circuit(inline, path)
    if circuit.raw_pairs < 2:
        raise InputError(f"{_WHERE}.circuit: the circuit must consume at least 2 raw pairs")
    noise = NoiseModel(gate_fidelity, 1.0 - measurement_error)

    def purify(states: list[Bell]) -> tuple[Bell, float]:
        r = simulate_loads(circuit, list(states), noise)
        b = r.bell
        return (float(b[0]), float(b[1]), float(b[2]), float(b[3])), float(r.success_probability)

    return purify, circuit.raw_pairs
