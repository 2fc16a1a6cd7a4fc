"""OKX: one symbol per instrument id, derived from `instId` alone.

`uly` cannot name instruments: OKX's USD-margined contracts (`BTC-USD_UM-SWAP`) share `uly`
`BTC-USD` with the coin-margined ones (`BTC-USD-SWAP`), and pre-open rows can have an empty
`uly` (OKX API v5 docs, "instFamily and uly parameter explanation": `uly` is the index and
maps to many settlement currencies, `instFamily` such as `BTC-USD_UM` to one). The rule:

| instType | instId | symbol |
| --- | --- | --- |
| SPOT | `BASE-QUOTE`: `BTC-USDT` | `OKX:BTCUSDT` |
| SWAP | `BASE-QUOTE-SWAP`: `BTC-USDT-SWAP`, `BTC-USD-SWAP` | `OKX:BTCUSDT.P`, `OKX:BTCUSD.P` |
| SWAP | `BASE-QUOTE_UM-SWAP`: `BTC-USD_UM-SWAP` | `OKX:BTCUSD_UM.P` |
| FUTURES | `BASE-QUOTE-YYMMDD`: `BTC-USD-240329` | `OKX:BTCUSD240329` |
| FUTURES | `BASE-QUOTE_UM-YYMMDD`: `BTC-USD_UM-250808` | `OKX:BTCUSD_UM250808` |

`BASE` is ASCII capitals and digits; `QUOTE` is one of `QUOTES`, a set in which no member
ends with another, so the ticker `BASE + QUOTE` splits back in exactly one way (the one
member it ends with) and the rule is injective: distinct ids never share a symbol. An id of
another shape, a quote outside `QUOTES` (`BTCU-SDT` would collide with `BTC-USDT`), or a
shape that does not match its `instType` is refused with the reason (the row is rejected).
"""

from __future__ import annotations

import re
from typing import Final, NamedTuple

from eventstore import InvalidEventError

#: The quote (and USD-margined) currencies OKX lists pairs and contracts in. No member is a
#: suffix of another (`suffix_free`, a test holds it): that makes the rule injective.
QUOTES: Final = frozenset(
    {
        *("USDT", "USDC", "USD", "USDG", "USDK", "DAI", "EURT"),
        *("BTC", "ETH", "OKB", "DOT", "SOL"),
        *("EUR", "TRY", "BRL", "AUD", "SGD", "AED", "GBP", "JPY"),
    }
)
_ID: Final = re.compile(
    r"(?P<base>[A-Z0-9]+)-(?P<quote>[A-Z]+)(?P<um>_UM)?(?:-(?P<tail>[A-Z0-9]+))?"
)
_DATE: Final = re.compile(r"[0-9]{6}")


class OkxName(NamedTuple):
    """What an OKX id names: its symbol, base and quote."""

    symbol: str
    base: str
    quote: str


def suffix_free(words: frozenset[str]) -> bool:
    """Return whether no word of `words` ends with another (`QUOTES` must be)."""
    return not any(a != b and a.endswith(b) for a in words for b in words)


def okx_name(inst_type: str, inst_id: str) -> OkxName:
    """Return the symbol (and base, quote) of the OKX instrument `inst_id` of `inst_type`.

    Raises `InvalidEventError` (field `instId`) for an id the rule cannot name.
    """
    found = _ID.fullmatch(inst_id)
    if found is None:
        raise _refuse(inst_id, "is not BASE-QUOTE[_UM][-SWAP|-YYMMDD]")
    base, quote, um, tail = found["base"], found["quote"], found["um"] or "", found["tail"]
    if quote not in QUOTES:
        raise _refuse(inst_id, f"quote {quote!r} is not one the symbol rule knows")
    ticker = f"{base}{quote}{um}"
    if inst_type == "SPOT" and tail is None and not um:
        return OkxName(f"OKX:{ticker}", base, quote)
    if inst_type == "SWAP" and tail == "SWAP":
        return OkxName(f"OKX:{ticker}.P", base, quote)
    if inst_type == "FUTURES" and tail is not None and _DATE.fullmatch(tail):
        return OkxName(f"OKX:{ticker}{tail}", base, quote)
    raise _refuse(inst_id, f"is not the shape of an OKX {inst_type} id")


def _refuse(inst_id: str, why: str) -> InvalidEventError:
    return InvalidEventError(f"{inst_id!r} {why}", field="instId")
