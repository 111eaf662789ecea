"""``python -m ijime_flow`` is the ``ijime-flow`` command."""

import sys

from .cli import main

sys.exit(main())
