"""Property-based fuzzing of what a user hands qnetai: scenario text and CLI arguments.

The property: any input either loads (or runs) or is refused with the project's
:class:`~qnetai.errors.InputError` (exit code 2 from the CLI); never another exception, never
a traceback, never more than a few seconds or a few hundred MB. The number of examples is
bounded so the suite stays fast; ``HYPOTHESIS_PROFILE=fuzz`` runs many more.
"""

from __future__ import annotations

import contextlib
import io
import json
import math
import os
import tracemalloc
from typing import Any

import pytest
import yaml
from hypothesis import HealthCheck, given, settings
from hypothesis import strategies as st

from qnetai.cli.main import main
from qnetai.config import builtin_scenario_text, scenario_from_text
from qnetai.errors import InputError

settings.register_profile(
    "ci",
    max_examples=40,
    deadline=None,
    suppress_health_check=[HealthCheck.too_slow, HealthCheck.data_too_large],
    derandomize=True,
)
settings.register_profile(
    "fuzz", parent=settings.get_profile("ci"), max_examples=2000, derandomize=False
)
PROFILE = os.environ.get("HYPOTHESIS_PROFILE", "ci")

#: Peak Python heap allowed while one input is handled (the inputs are a few kB).
MAX_PEAK_BYTES = 300 * 2**20

MINIMAL: dict[str, Any] = {
    "name": "two",
    "duration_s": 0.01,
    "nodes": [{"name": "A"}, {"name": "B"}],
    "links": [{"endpoints": ["A", "B"], "length_km": 20}],
    "traffic": {"requests": [{"source": "A", "destination": "B", "count": 5}]},
}

#: Values a careless or hostile user puts into a field.
HOSTILE_SCALARS = st.one_of(
    st.none(),
    st.booleans(),
    st.integers(min_value=-(2**70), max_value=2**70),
    st.sampled_from([0, -1, 1, 2**63, 2**80, 10**12, 10**7]),
    st.floats(allow_nan=True, allow_infinity=True),
    st.sampled_from([1e-12, 1e9, 1e12, 1e300, -1e-9, float("inf"), float("nan")]),
    st.text(max_size=20),
    st.sampled_from(
        [
            "",
            "A",
            "B",
            "waxman",
            "rl:",
            "rl:chain-n3-short",
            "../x",
            "[red]x[/]",
            ":smile:",
            "widest-path",
            "line",
            "ring",
            "grid",
        ]
    ),
)
HOSTILE_VALUES = st.recursive(
    HOSTILE_SCALARS,
    lambda inner: st.one_of(
        st.lists(inner, max_size=4), st.dictionaries(st.text(max_size=8), inner, max_size=4)
    ),
    max_leaves=12,
)


@contextlib.contextmanager
def bounded_memory() -> Any:
    """Fail if the Python heap peaks above :data:`MAX_PEAK_BYTES` inside the block."""
    tracemalloc.start()
    try:
        yield
        _, peak = tracemalloc.get_traced_memory()
        assert peak < MAX_PEAK_BYTES, f"peak heap {peak / 2**20:.0f} MiB"
    finally:
        tracemalloc.stop()


def load_or_refuse(text: str, fmt: str) -> None:
    """Load and check ``text`` as a scenario: success or InputError, in bounded memory."""
    from qnetai.facade import check_runnable

    with bounded_memory():
        try:
            scenario = scenario_from_text(text, fmt=fmt, source="fuzz")
            check_runnable(scenario)
        except InputError as exc:
            assert str(exc), "an InputError must say what is wrong"


def mutate(data: Any, path: list[Any], value: Any) -> Any:
    """A copy of ``data`` with the item at ``path`` (keys/indices, clamped) set to ``value``."""
    if not path:
        return value
    head, rest = path[0], path[1:]
    if isinstance(data, dict) and data:
        keys = sorted(data)
        key = keys[head % len(keys)] if isinstance(head, int) else head
        return {**data, key: mutate(data.get(key), rest, value)}
    if isinstance(data, list) and data and isinstance(head, int):
        i = head % len(data)
        return [*data[:i], mutate(data[i], rest, value), *data[i + 1 :]]
    return value


PATHS = st.lists(
    st.one_of(
        st.integers(0, 8),
        st.sampled_from(
            [
                "seed",
                "duration_s",
                "topology",
                "nodes",
                "links",
                "traffic",
                "qkd",
                "controller",
                "length_km",
                "attempt_rate_hz",
                "rate_hz",
                "count",
                "memory_qubits",
                "t_coh_s",
                "time_step_s",
                "requests",
                "random",
                "kind",
                "n_nodes",
                "routing",
            ]
        ),
    ),
    max_size=5,
)


@settings(settings.get_profile(PROFILE))
@given(text=st.text(max_size=400), fmt=st.sampled_from(["yaml", "json"]))
def test_arbitrary_text_loads_or_is_refused(text: str, fmt: str) -> None:
    load_or_refuse(text, fmt)


@settings(settings.get_profile(PROFILE))
@given(path=PATHS, value=HOSTILE_VALUES, as_json=st.booleans())
def test_mutated_scenarios_load_or_are_refused(path: list[Any], value: Any, as_json: bool) -> None:
    data = mutate(MINIMAL, path, value)
    if as_json:
        # JSON has no inf/nan; write them as Python's json does (the loader must cope).
        text = json.dumps(data)
    else:
        text = yaml.safe_dump(data) if _yaml_safe(data) else json.dumps(data)
    load_or_refuse(text, "json" if as_json else "yaml")


@settings(settings.get_profile(PROFILE))
@given(path=PATHS, value=HOSTILE_VALUES)
def test_mutated_builtin_scenario_loads_or_is_refused(path: list[Any], value: Any) -> None:
    data = yaml.safe_load(builtin_scenario_text("metro-6g"))
    load_or_refuse(json.dumps(mutate(data, path, value)), "json")


def _yaml_safe(data: Any) -> bool:
    try:
        yaml.safe_dump(data)
    except yaml.YAMLError:
        return False
    return True


@pytest.mark.parametrize(
    "text",
    [
        # alias bomb: each level doubles, 2^40 leaves if expanded
        "a: &a [1,1]\n"
        + "".join(
            f"x{i}: &x{i} [*{'a' if i == 0 else f'x{i - 1}'},*{'a' if i == 0 else f'x{i - 1}'}]\n"
            for i in range(40)
        )
        + "duration_s: *x39\n",
        "[" * 100_000 + "]" * 100_000,
        "a:\n" + "".join(" " * (i + 1) + f"a{i}:\n" for i in range(3000)),
        "!!python/object/apply:os.system ['touch /tmp/qnetai-fuzz-pwned']",
        "nodes: !!python/name:os.system\n",
        "seed: " + "9" * 5000,
        "duration_s: 1e9999\n",
    ],
    ids=[
        "alias-bomb",
        "deep-json",
        "deep-yaml",
        "python-tag",
        "python-name",
        "long-int",
        "overflow-float",
    ],
)
def test_hostile_yaml_is_refused_quickly(text: str) -> None:
    load_or_refuse(text, "json" if text.startswith("[") else "yaml")
    assert not os.path.exists("/tmp/qnetai-fuzz-pwned")


# --- CLI arguments ---------------------------------------------------------------------------


def run_cli(argv: list[str]) -> tuple[int, str]:
    """Run ``qnetai ARGV`` in-process; (exit code, stdout + stderr). Other exceptions escape."""
    out = io.StringIO()
    code: int | str | None = 0
    with contextlib.redirect_stdout(out), contextlib.redirect_stderr(out):
        try:
            main(argv)
        except SystemExit as exc:
            code = exc.code
    return (0 if code is None else int(code)), out.getvalue()


NUMBER_TEXT = st.one_of(
    st.floats(allow_nan=True, allow_infinity=True).map(repr),
    st.integers(-(2**70), 2**70).map(str),
    st.sampled_from(
        [
            "0",
            "-1",
            "1e-300",
            "1e300",
            "inf",
            "-inf",
            "nan",
            "",
            "abc",
            "1e6",
            "0.5",
            "[red]1[/]",
            ":smile:",
        ]
    ),
)
SMALL_COUNT = st.one_of(
    st.integers(-5, 2000).map(str),
    st.sampled_from(["1e3", "-1e3", "0", "abc", "nan", "1e400", "2.5"]),
)


def assert_clean(code: int, output: str) -> None:
    assert code in (0, 2), f"exit {code}: {output[-2000:]}"
    assert "Traceback" not in output, output[-2000:]
    if code == 2:
        assert output.strip(), "a refusal must say what is wrong"


@settings(settings.get_profile(PROFILE))
@given(
    segments=st.one_of(st.integers(-3, 12).map(str), NUMBER_TEXT),
    p_gen=NUMBER_TEXT,
    attempt_s=NUMBER_TEXT,
    fidelity=NUMBER_TEXT,
    t_coh_s=NUMBER_TEXT,
    cutoff=st.one_of(st.none(), NUMBER_TEXT),
    samples=SMALL_COUNT,
    seed=st.integers(-(2**65), 2**65),
)
def test_chain_arguments_run_or_are_refused(
    segments: str,
    p_gen: str,
    attempt_s: str,
    fidelity: str,
    t_coh_s: str,
    cutoff: str | None,
    samples: str,
    seed: int,
) -> None:
    argv = [
        "chain",
        "--segments",
        segments,
        "--p-gen",
        p_gen,
        "--attempt-s",
        attempt_s,
        "--fidelity",
        fidelity,
        "--t-coh-s",
        t_coh_s,
        "--samples",
        samples,
        "--seed",
        str(seed),
        "--json",
    ]
    if cutoff is not None:
        argv += ["--cutoff-s", cutoff]
    with bounded_memory():
        assert_clean(*run_cli(argv))


@settings(settings.get_profile(PROFILE))
@given(
    distance=NUMBER_TEXT,
    mu=st.one_of(st.none(), NUMBER_TEXT),
    f_ec=st.one_of(st.none(), NUMBER_TEXT),
    finite=st.booleans(),
    sweep=st.one_of(
        st.none(),
        st.text(max_size=20),
        st.tuples(NUMBER_TEXT, NUMBER_TEXT, NUMBER_TEXT).map(":".join),
    ),
    protocol=st.sampled_from(["bb84", "bbm92", "x"]),
)
def test_qkd_rate_arguments_run_or_are_refused(
    distance: str, mu: str | None, f_ec: str | None, finite: bool, sweep: str | None, protocol: str
) -> None:
    argv = ["qkd", "rate", "--distance-km", distance, "--protocol", protocol, "--json"]
    if mu is not None:
        argv += ["--mu", mu]
    if f_ec is not None:
        argv += ["--f-ec", f_ec]
    if finite:
        argv += ["--finite-key", "--block-size", "1e9"]
    if sweep is not None:
        argv += ["--sweep-km", sweep]
    with bounded_memory():
        code, output = run_cli(argv)
    assert_clean(code, output)
    if code == 0:
        for number in _numbers(json.loads(output)):
            assert not math.isnan(number), output[-2000:]


def _numbers(obj: Any) -> list[float]:
    if isinstance(obj, dict):
        return [x for v in obj.values() for x in _numbers(v)]
    if isinstance(obj, list):
        return [x for v in obj for x in _numbers(v)]
    return [float(obj)] if isinstance(obj, int | float) and not isinstance(obj, bool) else []


@settings(settings.get_profile(PROFILE))
@given(length=NUMBER_TEXT, t_coh=NUMBER_TEXT, fidelity=NUMBER_TEXT, speed=NUMBER_TEXT)
def test_physics_arguments_run_or_are_refused(
    length: str, t_coh: str, fidelity: str, speed: str
) -> None:
    argv = [
        "physics",
        "--length-km",
        length,
        "--t-coh-s",
        t_coh,
        "--fidelity",
        fidelity,
        "--speed-km-per-s",
        speed,
        "--json",
    ]
    with bounded_memory():
        assert_clean(*run_cli(argv))


@settings(settings.get_profile(PROFILE))
@given(text=st.text(max_size=300))
def test_scenario_validate_on_arbitrary_files(tmp_path_factory: Any, text: str) -> None:
    path = tmp_path_factory.mktemp("fuzz") / "s.yaml"
    path.write_text(text, encoding="utf-8", errors="surrogatepass")
    with bounded_memory():
        assert_clean(*run_cli(["scenario", "validate", str(path)]))
