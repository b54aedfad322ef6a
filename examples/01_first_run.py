# ---
# jupyter:
#   jupytext:
#     formats: py:percent
#     text_representation:
#       extension: .py
#       format_name: percent
# ---

# %% [markdown]
# # First run: the built-in metro-6g network
#
# Simulate the built-in scenario, write its run folder, read it back with pandas and DuckDB.
# Run it as a script with an output folder: `python examples/01_first_run.py /tmp/qnetai-ex`
# (everything is written inside that folder), or open it as a notebook with jupytext.

# %%
import sys
import tempfile
from pathlib import Path

import qnetai
from qnetai.facade import load
from qnetai.results import read_run, write_run

out = Path(sys.argv[1]) if len(sys.argv) > 1 else Path(tempfile.mkdtemp(prefix="qnetai-ex-"))
out.mkdir(parents=True, exist_ok=True)

# %% [markdown]
# `load` accepts a built-in name, a YAML/JSON path or a `Scenario`. Scenarios are
# immutable pydantic models: `model_copy(update=...)` makes a shorter variant for a quick look.

# %%
scenario = load("metro-6g")
scenario = scenario.model_copy(update={"duration_s": 0.3})
run = qnetai.run_scenario(scenario, seed=7)
s = run.summary
print(f"served {s['requests_served']} of {s['requests_total']} requests")
print(f"mean fidelity {s['mean_fidelity']:.4f}, {s['pairs_per_s']:.0f} pairs/s delivered")

# %% [markdown]
# `write_run` writes the run folder (Parquet tables, `summary.json`, `scenario.yaml`) atomically
# and records it in `catalogue.duckdb` of the folder above it; `read_run` gives it back. These
# are the files `qnetai run` writes.

# %%
folder = write_run(run, out / "metro-6g-seed7")
view = read_run(folder)
deliveries = view.deliveries.to_pandas()
per_pair = (
    deliveries.groupby(["source", "destination"])
    .agg(pairs=("fidelity", "size"), mean_fidelity=("fidelity", "mean"), hops=("hops", "mean"))
    .sort_values("pairs", ascending=False)
)
print(per_pair.head())

# %% [markdown]
# DuckDB reads the Parquet files directly, without loading them first.

# %%
import duckdb  # noqa: E402

links = duckdb.sql(
    f"SELECT link, length_km, rate_hz FROM '{folder / 'links.parquet'}' "
    "ORDER BY rate_hz DESC LIMIT 3"
).fetchall()
for name, km, rate in links:
    print(f"{name}: {km:.1f} km, {rate:.0f} pairs/s generated")

# %% [markdown]
# The catalogue is one DuckDB table, `runs`, with a row per run folder.

# %%
with duckdb.connect(str(out / "catalogue.duckdb"), read_only=True) as con:
    print(con.sql("SELECT scenario, seed, pairs_delivered, mean_fidelity FROM runs").fetchall())
assert s["pairs_delivered"] == len(deliveries)
