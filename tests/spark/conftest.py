"""The Spark smoke tests run only under `make test-spark` (PIT_SPARK=1): `pyspark` and Java
are the optional extra `spark`, which `make test` neither installs nor needs."""

from __future__ import annotations

import os

collect_ignore_glob = [] if os.environ.get("PIT_SPARK") == "1" else ["test_*.py"]
