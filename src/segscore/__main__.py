"""Run the segscore command line: ``python -m segscore``."""

import sys

from segscore.cli import main

sys.exit(main())
