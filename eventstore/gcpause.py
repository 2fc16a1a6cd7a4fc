"""Pause the cyclic garbage collector around bulk work that allocates many objects.

Building a batch allocates hundreds of thousands of container objects (recorded events,
lists) none of which form cycles; each allocation burst would otherwise trigger collections
that traverse every young object, the caller's whole batch included, again and again.
"""

from __future__ import annotations

import gc
from contextlib import contextmanager
from typing import TYPE_CHECKING

if TYPE_CHECKING:
    from collections.abc import Iterator


@contextmanager
def paused_gc() -> Iterator[None]:
    """Disable the cyclic collector inside the block, if it was enabled on entry."""
    enabled = gc.isenabled()
    if enabled:
        gc.disable()
    try:
        yield
    finally:
        if enabled:
            gc.enable()
