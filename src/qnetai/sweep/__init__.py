"""Parameter sweeps: local process pool or Ray, resumable, results in Parquet and DuckDB."""
