"""Run the segscore command line: ``python -m segscore``."""

import sys

from segscore.cli import console_main

sys.exit(console_main())
