"""The run directory on disk: atomic files, append-only logs, and the views read back."""
