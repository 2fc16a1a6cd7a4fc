"""Instants as people type them: a date alone is midnight UTC, a lowercase `z` is `Z`.

The library reads only ISO-8601 instants with an offset or `Z` (a naive one is refused);
the command line also reads `2022-06-01` as `2022-06-01T00:00:00Z` and `...00:00z` as
`...00:00Z`, before the library sees them. `get` and `universe` ask about now when
`--as-of` is not given.
"""

from __future__ import annotations

import re
from datetime import UTC, datetime
from typing import TYPE_CHECKING, Final

if TYPE_CHECKING:
    import argparse

#: The options that hold an instant, by their attribute name.
INSTANT_OPTIONS: Final = ("as_of", "known_at", "recorded_by", "since", "until")
#: The commands whose `--as-of` defaults to now.
NOW_BY_DEFAULT: Final = frozenset({"get", "universe"})
DATE_HELP: Final = "a date alone (2022-06-01) means midnight UTC"
_DATE: Final = re.compile(r"^\d{4}-\d{2}-\d{2}$")


def spelled(text: str) -> str:
    """Return `text` as the library reads it: a date alone at midnight UTC, `z` as `Z`."""
    stripped = text.strip()
    if _DATE.match(stripped):
        return f"{stripped}T00:00:00Z"
    if stripped.endswith("z") and "T" in stripped.upper():
        return f"{stripped[:-1]}Z"
    return text


def spell_instants(args: argparse.Namespace) -> None:
    """Rewrite the instant options of `args` in place; fill a missing `--as-of` with now."""
    for name in INSTANT_OPTIONS:
        given = getattr(args, name, None)
        if isinstance(given, str):
            setattr(args, name, spelled(given))
    if getattr(args, "command", None) in NOW_BY_DEFAULT and args.as_of is None:
        args.as_of = datetime.now(UTC).isoformat().replace("+00:00", "Z")


__all__ = ["DATE_HELP", "INSTANT_OPTIONS", "spell_instants", "spelled"]
