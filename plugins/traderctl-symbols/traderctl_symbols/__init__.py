"""traderctl-symbols: which security a symbol means on IB, kept in a local universe store.

Read in this order: :mod:`.plugin` (the hook implementations, the entry module),
:mod:`.hookspecs` (the hooks this plugin adds: ``resolve_securities``,
``register_symbol_sources``), :mod:`.query` and :mod:`.choose` (what a request is and
the rule that picks one of several listings), :mod:`.sources` and :mod:`.download`
(symbol lists), :mod:`.store` (the SQLite universe store), :mod:`.resolve` (asking IB
through the job engine), :mod:`.cli` (``traderctl symbols ...``).
"""
