"""``python -m biotoets.api.cli``."""

import sys

from biotoets.api.cli import main

sys.exit(main())
