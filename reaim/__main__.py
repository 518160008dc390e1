"""`python -m reaim` runs the CLI."""

from reaim.cli import main

main()
