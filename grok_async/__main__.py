"""``python -m grok_async`` runs the ``grok-async`` command."""

import sys

from .cli import main

sys.exit(main())
