"""Names across schemes and time: TradingView, venue ids, ccxt, NautilusTrader, Tardis.dev.

`parts` reads a version into `NameParts`; `schemes` holds one pure rule per scheme;
`directory` names every version of a store once per generation; `lookup` resolves names
in a view; `join` is the PIT join on names (`per_row` its `known_at="row"`); `queries` is
what `Catalog` answers.
"""
