"""`python -m harness.bench`: the fleet bench (see harness.bench.run)."""

from harness.bench.run import main

raise SystemExit(main())
