"""`python -m gepa_cli` runs the `gepa` command."""

from gepa_cli.cli.app import main

main()
