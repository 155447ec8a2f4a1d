"""The pure GEPA engine: state, Pareto frontier, selection, reflection, the step.

Nothing in this package does file, network or console I/O. It talks to the
outside world only through the protocols in `engine.types` and `lm.base`.
"""
