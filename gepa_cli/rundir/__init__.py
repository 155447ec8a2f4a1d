"""The run directory on disk: atomic files, append-only logs, views and exports read back from it."""
