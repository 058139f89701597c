"""`python -m harness.mutation`: see harness/mutation/driver.py."""

import sys

from harness.mutation.driver import main

sys.exit(main())
