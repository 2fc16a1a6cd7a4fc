"""Hypothesis profiles: `thorough` (the default, what `make test` runs) and `quick`.

Loaded as a pytest plugin (`-p profiles` in pyproject's addopts), so both exist before the
command line is read: pick one with `pytest --hypothesis-profile=quick` (`make quick`) or
`HYPOTHESIS_PROFILE=quick`. Property tests ask for their example counts through
`examples(n)`: `n` when thorough, at most `QUICK` when quick.
"""

from __future__ import annotations

import os
from typing import Final

from hypothesis import settings

QUICK: Final = 10

settings.register_profile("thorough")  # Hypothesis's defaults, and the counts tests ask for
settings.register_profile("quick", deadline=None, max_examples=QUICK)
settings.load_profile(os.environ.get("HYPOTHESIS_PROFILE", "thorough"))


def examples(thorough: int) -> int:
    """Return how many examples a property test runs under the loaded profile."""
    loaded = settings().max_examples  # the loaded profile's
    return min(thorough, loaded) if loaded <= QUICK else thorough
