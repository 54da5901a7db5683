"""Run the seom-client CLI with `python -m seom_client`."""

import sys

from .cli import main

sys.exit(main())
