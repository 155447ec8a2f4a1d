"""Tasks: the Task protocol, data loading and the built-in adapters (qa, math, ...)."""
