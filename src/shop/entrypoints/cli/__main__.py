"""``python -m shop.entrypoints.cli``: the ``shop`` console script without installing it."""

import sys

from shop.entrypoints.cli.main import main

sys.exit(main())
