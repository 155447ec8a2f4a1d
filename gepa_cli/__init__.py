"""gepa-cli: optimize the prompts of LLM programs with GEPA from the command line."""

__version__ = "0.1.0"
