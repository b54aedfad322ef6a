"""``qnetai scenario``: validate, show, list, export scenarios and their JSON schema."""

from __future__ import annotations

from pathlib import Path
from typing import Annotated, Any

import typer

scenario_app = typer.Typer(
    help="Validate, inspect and export scenario files (YAML or JSON).",
    no_args_is_help=True,
)

JsonOpt = Annotated[bool, typer.Option("--json", help="Print one JSON document.")]
AllowLargeOpt = Annotated[
    bool,
    typer.Option(
        "--allow-large",
        help="Accept a scenario whose estimated work is above the limits "
        "(qnetai.topology.runnable.WORK_LIMITS).",
    ),
]
_REF_HELP = "A scenario file (.yaml/.yml/.json) or the name of a built-in scenario (e.g. metro-6g)."


def _load(
    ref: str, *, allow_large: bool = False, runnable: bool = False, allow_plugins: bool = False
) -> Any:
    """Load a scenario file or built-in and check it; errors name the file.

    ``runnable``: every check ``qnetai run`` makes (:func:`qnetai.check_runnable`);
    otherwise the topology's size (before building it) and the references.
    """
    from qnetai.config import load_scenario
    from qnetai.errors import InputError
    from qnetai.facade import check_runnable
    from qnetai.topology import check_topology_size, resolve

    scenario = load_scenario(ref)
    try:
        if runnable:
            check_runnable(scenario, allow_large=allow_large, allow_plugins=allow_plugins)
        else:
            check_topology_size(scenario, allow_large=allow_large)
            resolve(scenario)
    except InputError as exc:
        raise InputError(f"{ref}: {exc}") from None
    return scenario


def _fmt(value: Any, digits: int = 4) -> str:
    """Short text of a table cell."""
    if value is None:
        return "-"
    if isinstance(value, bool):
        return "yes" if value else ""
    if isinstance(value, float):
        return f"{value:.{digits}g}"
    if isinstance(value, list | tuple):
        return "(" + ", ".join(_fmt(v) for v in value) + ")"
    return str(value)


@scenario_app.command("validate")
def validate(
    file: Annotated[str, typer.Argument(help=_REF_HELP)],
    json_out: JsonOpt = False,
    allow_large: AllowLargeOpt = False,
    allow_plugins: Annotated[
        bool,
        typer.Option(
            "--allow-plugins",
            help="Let the scenario name an import-path routing policy (pkg.module:Class); "
            "importing it runs that module's code, so only for scenarios you trust.",
        ),
    ] = False,
) -> None:
    """Check a scenario as `qnetai run` would (fields, references, policy, qkd, work estimate).

    Prints a one-line summary; a scenario that validates runs.
    """
    from rich.markup import escape

    from qnetai.cli._common import console, print_json
    from qnetai.topology import summarise, summary_line

    scenario = _load(file, allow_large=allow_large, runnable=True, allow_plugins=allow_plugins)
    summary = summarise(scenario)
    if json_out:
        print_json({"ok": True, "file": file, **summary})
        return
    console.print(f"[bold green]OK[/] {escape(file)}: {escape(summary_line(summary))}")


def _table(
    title: str, columns: list[str], rows: list[list[str]], limit: int, text_columns: int = 1
) -> None:
    """Print a table whose numbers are never cut (stacked per row when too wide)."""
    from qnetai.cli._common import print_table

    shown = rows if limit <= 0 else rows[:limit]
    caption = (
        f"{len(rows) - len(shown)} more rows (use --limit 0 to list all)"
        if len(shown) < len(rows)
        else None
    )
    print_table(title, columns, shown, caption=caption, text_columns=text_columns)


def _memory(memory: dict[str, Any]) -> str:
    """A node's memory model in words: T1/T2 per qubit or t_coh (pair's Werner parameter)."""
    from qnetai.cli._common import si

    if memory.get("t1_s") is not None or memory.get("t2_s") is not None:
        parts = [f"T1 {si(memory.get('t1_s'), 's')}", f"T2 {si(memory.get('t2_s'), 's')}"]
        return ", ".join(p for p in parts if not p.endswith("—"))
    return f"t_coh {si(memory.get('t_coh_s'), 's')}"


def _arrivals(arrival: dict[str, Any]) -> str:
    if arrival["process"] == "at_once":
        return f"at once, t={_fmt(arrival['start_s'])} s"
    return f"{arrival['process']} {_fmt(arrival['rate_hz'])}/s"


def _render(info: dict[str, Any], *, limit: int) -> None:
    from rich.markup import escape
    from rich.panel import Panel

    from qnetai.cli._common import console, fixed, si
    from qnetai.topology import summary_line

    s, summary = info["scenario"], info["summary"]
    head = f"[bold]{escape(summary_line(summary))}[/]\nseed {s['seed']}"
    if s["description"]:
        head += f"\n\n{escape(s['description'])}"
    console.print(Panel(head, title=escape(s["name"]), title_align="left"))

    topo = s.get("topology")
    if topo is not None:
        skip = {"node", "link"} | (
            {"spacing_km", "rows"}
            if topo["builder"] == "waxman"
            else {"area_km", "waxman_alpha", "waxman_beta"}
        )
        params = {k: v for k, v in topo.items() if k not in skip and v is not None}
        console.print(
            f"topology: {escape(', '.join(f'{k}={_fmt(v)}' for k, v in params.items()))} "
            f"-> {summary['nodes']} nodes, {summary['links']} links in all "
            "([bold]--resolved[/] lists them)"
        )

    node_rows = [
        [
            f"{n['name']} ({n['kind'].replace('_', ' ')})",
            str(n["memory_qubits"]),
            _memory(n["memory"]),
            fixed(n["memory"].get("efficiency"), 3),
            "—"
            if n["position_km"] is None
            else f"({_fmt(n['position_km'][0])}, {_fmt(n['position_km'][1])}) km",
        ]
        for n in s["nodes"]
    ]
    if node_rows:
        columns = ["node (kind)", "qubits", "memory", "retrieval efficiency", "position"]
        _table("Nodes", columns, node_rows, limit)

    derived = info["links_derived"]
    link_rows = []
    for i, link in enumerate(s["links"]):
        a, b = link["endpoints"]
        label = link["name"] or f"{a}-{b}"
        if label != f"{a}-{b}":
            label += f" ({a} - {b})"
        row = [
            label,
            link["kind"],
            si(link["length_km"] * 1e3, "m"),
            link["scheme"].replace("_", "-"),
            str(link["multiplexing"]),
            si(link["attempt_rate_hz"], "Hz") if link["attempt_rate_hz"] else "round trip",
            "yes" if link["qkd"] else "no",
        ]
        if derived is not None:
            d = derived[i]
            row += [
                f"{d['transmittance']:.3g}",
                f"{d['loss_db']:.2f} dB",
                f"{d['p_success_per_round']:.3g}",
                fixed(d["herald_fidelity"]),
                si(d["rate_hz"], "pairs/s"),
            ]
        link_rows.append(row)
    if link_rows:
        columns = ["link", "kind", "length", "heralding", "modes", "attempt rate", "QKD"]
        if derived is not None:
            columns += [
                "transmittance",
                "loss",
                "p per round",
                "herald fidelity",
                "expected pairs/s",
            ]
        _table("Links", columns, link_rows, limit, text_columns=2)
        if derived is not None:
            console.print(
                "p per round: probability that one attempt round (all modes) heralds, memory "
                "efficiencies included; expected pairs/s: attempt rate x p per round, while "
                "memories are free. qnetai run reports the measured generation rate and the "
                "per-mode p per attempt.",
                style="dim",
                markup=False,
                highlight=False,
            )
        if derived is None:
            console.print("[dim](derived link figures need qnetai.physics)[/]")

    traffic = s["traffic"]
    rows = [
        [
            f"{r['source']} -> {r['destination']}",
            str(r["count"]),
            str(r["pairs_per_request"]),
            _arrivals(r["arrival"]),
            _fmt(r["min_fidelity"]),
            si(r["timeout_s"], "s"),
        ]
        for r in traffic["requests"]
    ]
    rnd = traffic["random"]
    if rnd is not None:
        rows.append(
            [
                f"random among {', '.join(rnd['node_kinds'])}",
                str(rnd["count"]),
                str(rnd["pairs_per_request"]),
                f"poisson {_fmt(rnd['rate_hz'])}/s",
                _fmt(rnd["min_fidelity"]),
                si(rnd["timeout_s"], "s"),
            ]
        )
    columns = ["flow", "requests", "pairs each", "arrivals", "min fidelity", "timeout"]
    _table("Traffic", columns, rows, limit)
    ops, ctl = s["operations"], s["controller"]
    console.print(
        f"operations: swap gate F {_fmt(ops['swap_gate_fidelity'])}, measurement error "
        f"{_fmt(ops['measurement_error'])}, {ops['swapping_policy']}, purification "
        f"{ops['purification']['protocol']}, cutoff_s {_fmt(ops['cutoff_s'])}; controller: "
        f"{escape(ctl['routing'])} ({ctl['path_metric']})"
    )


@scenario_app.command("show")
def show(
    ref: Annotated[str, typer.Argument(metavar="FILE|NAME", help=_REF_HELP)],
    resolved: Annotated[
        bool, typer.Option("--resolved", help="Expand topology: into the explicit nodes and links.")
    ] = False,
    limit: Annotated[int, typer.Option("--limit", min=0, help="Rows per table (0: all).")] = 40,
    json_out: JsonOpt = False,
    allow_large: AllowLargeOpt = False,
) -> None:
    """Show a scenario: nodes, links (with derived transmittance and rates) and traffic."""
    from qnetai.cli._common import print_json
    from qnetai.facade import describe_scenario

    info = describe_scenario(_load(ref, allow_large=allow_large), resolved=resolved)
    if json_out:
        print_json(info)
        return
    _render(info, limit=limit)


@scenario_app.command("schema")
def schema(
    out: Annotated[
        Path | None,
        typer.Option("--out", "-o", help="Write the schema to this file instead of printing it."),
    ] = None,
) -> None:
    """Export the JSON schema of scenario files (for editors and validators)."""
    import json

    from qnetai.cli._common import console, print_json
    from qnetai.config import scenario_json_schema
    from qnetai.errors import InputError

    document = scenario_json_schema()
    if out is None:
        print_json(document)
        return
    try:
        out.write_text(json.dumps(document, indent=2) + "\n", encoding="utf-8")
    except OSError as exc:
        raise InputError(f"--out {out}: cannot write ({exc})") from None
    console.print(f"wrote the scenario JSON schema to {out}", highlight=False)


@scenario_app.command("list")
def list_builtin(json_out: JsonOpt = False) -> None:
    """List the built-in scenarios."""
    from rich.table import Table

    from qnetai.cli._common import console, print_json
    from qnetai.config import BUILTIN_SCENARIOS, builtin_scenario
    from qnetai.topology import summarise

    entries = []
    for name in BUILTIN_SCENARIOS:
        scenario = builtin_scenario(name)
        summary = summarise(scenario)
        first = scenario.description.split(". ")[0].rstrip(".")
        entries.append({**summary, "description": first})
    if json_out:
        print_json(entries)
        return
    table = Table(title="Built-in scenarios", title_justify="left", header_style="bold")
    for column in ("name", "nodes", "links", "requests", "duration_s", "description"):
        table.add_column(column, overflow="fold")
    for e in entries:
        table.add_row(
            e["name"],
            str(e["nodes"]),
            str(e["links"]),
            f"{e['requests']:,}",
            f"{e['duration_s']:g}",
            e["description"],
        )
    console.print(table)
    console.print("[dim]qnetai scenario export NAME FILE writes one to start editing from[/]")


@scenario_app.command("export")
def export(
    name: Annotated[str, typer.Argument(help="Built-in scenario name (see `scenario list`).")],
    file: Annotated[Path, typer.Argument(help="Where to write it (.yaml, or .json for JSON).")],
    force: Annotated[
        bool, typer.Option("--force", "-f", help="Overwrite an existing file.")
    ] = False,
) -> None:
    """Write a built-in scenario to a file to start editing from."""
    from qnetai.cli._common import console
    from qnetai.config import builtin_scenario, builtin_scenario_text, dump_scenario
    from qnetai.config.loader import JSON_SUFFIXES
    from qnetai.errors import InputError

    scenario = builtin_scenario(name)  # InputError for an unknown name
    if file.exists() and not force:
        raise InputError(f"{file} exists (use --force to overwrite)")
    if file.suffix.lower() in JSON_SUFFIXES:
        dump_scenario(scenario, file)
    else:
        try:
            file.write_text(builtin_scenario_text(name), encoding="utf-8")
        except OSError as exc:
            raise InputError(f"{file}: cannot write ({exc})") from None
    console.print(f"wrote built-in scenario {name} to {file}", highlight=False)


def register(app: typer.Typer) -> None:
    """Attach the ``scenario`` sub-commands to the main app."""
    app.add_typer(scenario_app, name="scenario")
