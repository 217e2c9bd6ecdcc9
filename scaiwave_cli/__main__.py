"""``python -m scaiwave_cli``: the same as the ``scaiwave`` console script."""

import sys

from scaiwave_cli.app import main

sys.exit(main())
