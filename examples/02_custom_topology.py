# ---
# jupyter:
#   jupytext:
#     formats: py:percent
#     text_representation:
#       extension: .py
#       format_name: percent
# ---

# %% [markdown]
# # Your own topology: a generated grid, then a hand-written chain
#
# A scenario is YAML (or JSON, or a Python dict) validated by pydantic; errors name the field
# path. `topology:` generates nodes named `{prefix}{i}` (default prefix `n`, so `n0`, `n1`,
# ...) with positions in km; explicit `nodes:`/`links:` are written by hand.
# Run: `python examples/02_custom_topology.py OUT_DIR` (writes `OUT_DIR/my-chain.yaml`).

# %%
import sys
import tempfile
from pathlib import Path

import qnetai
from qnetai.config import dump_scenario, scenario_from_text
from qnetai.errors import InputError
from qnetai.topology.resolve import resolve

out = Path(sys.argv[1]) if len(sys.argv) > 1 else Path(tempfile.mkdtemp(prefix="qnetai-ex-"))
out.mkdir(parents=True, exist_ok=True)

# %% [markdown]
# ## A generated 3 x 3 grid
# `resolve` expands the builder so you can see the names it made before writing traffic.

# %%
GRID = """
name: grid-3x3
seed: 1
duration_s: 0.2
topology:
  builder: grid
  nodes: 9
  rows: 3
  spacing_km: 15
  node: {name: q, memory_qubits: 8, memory: {t_coh_s: 0.5, efficiency: 0.95}}
  link: {attenuation_db_per_km: 0.2, multiplexing: 4, raw_fidelity: 0.97}
traffic:
  requests:
    - {source: q0, destination: q8, count: 40, arrival: {rate_hz: 200}}
"""
grid = scenario_from_text(GRID)
resolved = resolve(grid)
print("nodes:", [n.name for n in resolved.nodes])
print("links:", [f"{ln.name} ({ln.length_km:.0f} km)" for ln in resolved.links][:4], "...")
r = qnetai.simulate(grid)
print(f"grid: {r.summary['requests_served']} of 40 served, F = {r.summary['mean_fidelity']:.3f}")

# %% [markdown]
# ## A hand-written three-node chain with T1/T2 memories
# Every hardware field carries its unit in its name. A node may give `t1_s`/`t2_s` (per qubit)
# instead of the depolarising `t_coh_s` (per pair); see *Writing a scenario* in the docs.

# %%
CHAIN = """
name: my-chain
seed: 3
duration_s: 0.3
nodes:
  - {name: alice, kind: end_user, memory_qubits: 4, position_km: [0, 0],
     memory: {t1_s: 2.0, t2_s: 1.0, efficiency: 0.9}}
  - {name: relay, memory_qubits: 8, position_km: [25, 0], memory: {t_coh_s: 0.5}}
  - {name: bob, kind: end_user, memory_qubits: 4, position_km: [50, 0],
     memory: {t1_s: 2.0, t2_s: 1.0, efficiency: 0.9}}
links:
  - {endpoints: [alice, relay], length_km: 25, multiplexing: 16, detector_efficiency: 0.9}
  - {endpoints: [relay, bob], length_km: 25, multiplexing: 16, detector_efficiency: 0.9}
operations: {swap_gate_fidelity: 0.99, cutoff_s: 0.05}
traffic:
  requests: [{source: alice, destination: bob, count: 30, arrival: {rate_hz: 100}}]
"""
chain = scenario_from_text(CHAIN)
r = qnetai.simulate(chain)
print(f"chain: {r.summary['requests_served']} of 30 served, F = {r.summary['mean_fidelity']:.3f}")
dump_scenario(chain, out / "my-chain.yaml")  # `qnetai run OUT/my-chain.yaml` runs it

# %% [markdown]
# ## Mistakes are reported with their field path

# %%
try:
    scenario_from_text(CHAIN.replace("t2_s: 1.0", "t2_s: 5.0", 1))
except InputError as exc:
    print("refused:", str(exc).splitlines()[0])
