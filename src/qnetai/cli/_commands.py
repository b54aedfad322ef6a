"""The static table of ``qnetai``'s top-level commands: names, help lines, modules.

``qnetai --help`` prints this table without importing typer or any command module, and
``qnetai NAME ...`` imports only the command modules that register ``NAME``
(:func:`modules_for`). ``tests/cli/test_startup_help.py`` checks the table against the
commands the modules really register (names, order, help lines, modules), so it cannot
drift: a new top-level command or a changed help line fails that test until the table is
updated. A name missing from the table still works (every module is then imported).

Example:
    >>> modules_for("run")
    ('run_cmd',)
    >>> [name for name, _help, _mods in COMMANDS][:2]
    ['run', 'runs']
"""

from __future__ import annotations

#: The app's help line (``qnetai --help``, first paragraph).
APP_HELP = "AI-driven quantum networks: simulate, secure and control a 6G quantum network."

#: Where the documentation lives (also shown at the end of ``qnetai --help``).
DOCS_HINT = (
    "Documentation: the docs/ folder of the repository (mkdocs serve, or mkdocs build into"
    " site/); the API reference is generated from the docstrings."
)

#: ``(name, help line, modules of qnetai.cli that register it)`` in ``qnetai --help`` order
#: (typer lists the commands, then the groups). A group's modules are every module that adds
#: a sub-command to it, in :data:`qnetai.cli._registry.COMMAND_MODULES` order.
COMMANDS: tuple[tuple[str, str, tuple[str, ...]], ...] = (
    (
        "run",
        "Simulate a scenario and write its run folder (Parquet, summary, scenario, report).",
        ("run_cmd",),
    ),
    ("runs", "List the runs under a runs folder (newest first).", ("run_cmd",)),
    (
        "chain",
        "Delivery-time distribution and fidelity of a swap-asap repeater chain (vectorised).",
        ("chain_cmd",),
    ),
    (
        "physics",
        "Transmittance, heralding (double/single click), PLOB bound, swap and purification.",
        ("physics_cmd",),
    ),
    (
        "serve",
        "Serve the ETSI 014 KMS and the operator dashboard; prints the dashboard URL.",
        ("serve_cmd",),
    ),
    (
        "report",
        "Render the report of a run folder again (with this version's sections), as HTML or PDF.",
        ("report_cmd",),
    ),
    (
        "scenario",
        "Validate, inspect and export scenario files (YAML or JSON).",
        ("scenario_cmd",),
    ),
    (
        "qkd",
        "Quantum key distribution: analytic decoy-state/BBM92 key rates and simulation.",
        ("qkd_cmd",),
    ),
    ("train", "Train learned control policies.", ("train_cmd", "qec_cmd")),
    (
        "bench",
        "Benchmarks of the control plane.",
        (
            "bench_cmd",
            "security_cmd",
            "faults_cmd",
            "qec_cmd",
            "tomography_cmd",
            "sweep_cmd",
            "qml_cmd",
        ),
    ),
    ("dataset", "Labelled data sets from the simulator.", ("security_cmd", "qec_cmd")),
    (
        "kms",
        "ETSI GS QKD 014 key-management service over the simulated network.",
        ("kms_cmd",),
    ),
    ("optimise", "Search protocols and gates (purification circuits).", ("optimise_cmd",)),
    ("demo", "Demonstrations over the simulated network.", ("demo_cmd",)),
    (
        "sweep",
        "Parameter sweeps: local processes or Ray, resumable, results in Parquet and DuckDB.",
        ("sweep_cmd",),
    ),
)


def modules_for(name: str) -> tuple[str, ...] | None:
    """The command modules that register top-level command ``name`` (None: not in the table)."""
    for command, _help, modules in COMMANDS:
        if command == name:
            return modules
    return None
