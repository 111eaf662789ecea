"""``python -m ijime_flow`` is the ``ijime-flow`` command."""

import sys

from .cli.main import main

sys.exit(main())
