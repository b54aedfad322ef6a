"""Results on disk: run folders (Parquet, JSON, YAML, HTML) and a DuckDB catalogue.

This package is the only place in qnetai that writes files. A run folder is complete
when it holds the marker ``.qnetai-run`` (written last); the folders are the source of
truth and the catalogue an index that :func:`rescan_catalogue` rebuilds.
"""

from qnetai.results._atomic import check_out_dir, is_complete_run
from qnetai.results.catalogue import (
    CATALOGUE_NAME,
    CatalogueFileError,
    catalogue_path,
    record_run,
)
from qnetai.results.index import RescanReport, clean_stale_runs, list_runs, rescan_catalogue
from qnetai.results.reader import RunView, read_run
from qnetai.results.writer import CatalogueError, default_run_dir, scenario_yaml, write_run

__all__ = [
    "CATALOGUE_NAME",
    "CatalogueError",
    "CatalogueFileError",
    "RescanReport",
    "RunView",
    "catalogue_path",
    "check_out_dir",
    "clean_stale_runs",
    "default_run_dir",
    "is_complete_run",
    "list_runs",
    "read_run",
    "record_run",
    "rescan_catalogue",
    "scenario_yaml",
    "write_run",
]
