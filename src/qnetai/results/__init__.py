"""Results on disk: atomic run folders (Parquet, JSON, YAML, HTML) and a DuckDB catalogue.

This package is the only place in qnetai that writes files.
"""

from qnetai.results._atomic import check_out_dir
from qnetai.results.catalogue import CATALOGUE_NAME, catalogue_path, list_runs, record_run
from qnetai.results.reader import RunView, read_run
from qnetai.results.writer import CatalogueError, default_run_dir, scenario_yaml, write_run

__all__ = [
    "CATALOGUE_NAME",
    "CatalogueError",
    "RunView",
    "catalogue_path",
    "check_out_dir",
    "default_run_dir",
    "list_runs",
    "read_run",
    "record_run",
    "scenario_yaml",
    "write_run",
]
