"""Entry point: ``python3 -m oracle <command>`` (see oracle.cli)."""

import sys

from .cli import main

sys.exit(main())
