"""``python -m scaiwave_cli``: the same as the ``scaiwave`` console script."""

from scaiwave_cli.app import main

main()
