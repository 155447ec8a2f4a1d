"""One optimization run: wiring config to objects, the loop, stopping, resume checks, the plan."""
