# ---
# jupyter:
#   jupytext:
#     formats: py:percent
#     text_representation:
#       extension: .py
#       format_name: percent
# ---

# %% [markdown]
# # Your own routing policy
#
# A routing policy is any object with a `name` and
# `choose_path(graph, source, destination, *, state)` returning a node list (or `None` to
# decline). `graph` is a networkx graph whose edges carry `length_km`, `kind` and the link
# `spec`; `state` tells the time (`state.now`, s) and free memory (`state.free_memory(node)`).
# Pass it per call with `policies={"name": Policy}` and select it with `controller.routing`.
# Run: `python examples/03_custom_routing_policy.py OUT_DIR` (writes nothing but a CSV there).

# %%
import csv
import sys
import tempfile
from pathlib import Path

import networkx as nx

import qnetai
from qnetai.config import scenario_from_text

out = Path(sys.argv[1]) if len(sys.argv) > 1 else Path(tempfile.mkdtemp(prefix="qnetai-ex-"))
out.mkdir(parents=True, exist_ok=True)


# %%
class LeastLossPath:
    """Shortest path by fibre length, avoiding nodes with no free memory right now."""

    name = "least-loss"

    def choose_path(self, graph, source, destination, *, state):
        """The shortest path by ``length_km`` through nodes with free memory, or None."""
        busy = {
            n for n in graph.nodes if n not in (source, destination) and state.free_memory(n) < 1
        }
        view = nx.subgraph_view(graph, filter_node=lambda n: n not in busy)
        try:
            return nx.shortest_path(view, source, destination, weight="length_km")
        except nx.NetworkXNoPath:
            return None  # declined: counted as not served


# %% [markdown]
# Compare it with the built-in shortest-path (by hops) and Q-CAST on the same Waxman network
# (two memory qubits per node, so paths compete for memory) and the same seeds.

# %%
base = scenario_from_text("""
name: waxman-20
seed: 5
duration_s: 0.3
topology:
  builder: waxman
  nodes: 20
  area_km: 60
  end_user_fraction: 0.4
  node: {memory_qubits: 2, memory: {t_coh_s: 0.2}}
  link: {multiplexing: 8}
traffic:
  random: {count: 150, rate_hz: 500, node_kinds: [end_user]}
""")
rows = []
for routing in ("shortest-path", "q-cast", "least-loss"):
    sc = base.model_copy(
        update={"controller": base.controller.model_copy(update={"routing": routing})}
    )
    for seed in (1, 2):
        s = qnetai.simulate(sc, seed=seed, policies={"least-loss": LeastLossPath}).summary
        rows.append(
            {
                "routing": routing,
                "seed": seed,
                "served": s["requests_served"],
                "requests": s["requests_total"],
                "mean_fidelity": round(s["mean_fidelity"], 4),
            }
        )
        print(rows[-1])
with open(out / "routing_comparison.csv", "w", newline="") as fh:
    writer = csv.DictWriter(fh, fieldnames=list(rows[0]))
    writer.writeheader()
    writer.writerows(rows)

# %% [markdown]
# Declining a request when memory is busy loses it, while the built-ins let it wait for
# memory: the comparison shows what such a design choice costs.
#
# The same policy from a scenario file: `controller: {routing: "mypkg.policies:LeastLossPath"}`
# with `qnetai run my.yaml --allow-plugins` (a scenario file is data, so importing code from it
# needs your consent), or as an entry point of the group `qnetai.routing_policies`.
