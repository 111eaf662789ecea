"""``python -m ijime_flow.cli`` is the ``ijime-flow`` command."""

import sys

from .main import main

sys.exit(main())
