"""A second `hello`: loses to scaiwave-hello, the first distribution by name."""

import click


@click.command()
def hello():
    """The clashing hello."""
    click.echo("clash hello")
