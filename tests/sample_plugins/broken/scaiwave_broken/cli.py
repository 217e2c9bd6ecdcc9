"""Fails at import time on purpose: the core must isolate it."""

import click
import scaiwave_this_module_does_not_exist  # noqa: F401


@click.command()
def broken():
    """Never reachable."""
