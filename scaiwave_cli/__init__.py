"""scaiwave_cli: the thin core of the ``scaiwave`` command line (see DESIGN.md's map).

Plugins import ``scaiwave_cli.api`` only. This package's import must stay cheap: it runs on
every invocation, ``scaiwave --help`` included.
"""

__version__ = "0.1.0"
