"""`python -m harness`: the harness's command line."""

import sys

from harness.cli import main

sys.exit(main())
