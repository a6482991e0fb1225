"""`outcomes import focus`: cloud costs from FinOps FOCUS exports (CSV, gzip CSV, Parquet)."""
