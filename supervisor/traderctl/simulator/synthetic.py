"""A deterministic universe of any size, for benchmarks of symbol resolution.

``synthetic_listings(universe, size)`` adds stocks until the universe holds
``size`` listings: made-up tickers (``QA``, ``QB``, ... ``QZZZ``, never a
real ticker here) spread over the universe's exchanges in fixed shares, a
tenth of them listed a second time on another venue and currency (as BHP,
SHEL and RIO are), plus the real cross-listings the universe file lacks
(BHP on the LSE, RIO as a NYSE ADR). The same size always gives the same
listings and conIds (800000000..899999999), on any machine.

Enabled with ``universe: {size: 5000}`` in a scenario, or
``TRADERCTL_SIM_UNIVERSE_SIZE=5000``.
"""

from __future__ import annotations

import itertools
import string
import zlib
from collections.abc import Iterator
from dataclasses import replace

from .universe import Listing, Universe

# (calendar, primary exchange, currency, minTick, typical price) of the venues used
VENUES = (
    ("US", "NYSE", "USD", 0.01, 60.0),
    ("US", "NASDAQ", "USD", 0.01, 45.0),
    ("LSE", "LSE", "GBP", 0.05, 900.0),
    ("XETRA", "IBIS", "EUR", 0.01, 70.0),
    ("EURONEXT", "SBF", "EUR", 0.01, 55.0),
    ("TSEJ", "TSEJ", "JPY", 1.0, 2500.0),
    ("SEHK", "SEHK", "HKD", 0.01, 40.0),
    ("ASX", "ASX", "AUD", 0.005, 12.0),
    ("TSE_CA", "TSE", "CAD", 0.01, 35.0),
)
SHARES = (30, 25, 8, 7, 7, 7, 6, 6, 4)  # per 100 listings
# real cross-listings missing from the universe file: (symbol, donor primary, new venue index)
CROSS_LISTINGS = (("BHP", "ASX", 2), ("RIO", "LSE", 0))


def _tickers() -> Iterator[str]:
    letters = string.ascii_uppercase
    for n in itertools.count(1):
        for tail in itertools.product(letters, repeat=n):
            yield "Q" + "".join(tail)


def _venue_cycle() -> Iterator[int]:
    pattern = [i for i, share in enumerate(SHARES) for _ in range(share)]
    # interleave so any prefix of the sequence has roughly the target shares
    order = sorted(range(len(pattern)), key=lambda k: (k * 37) % len(pattern))
    return itertools.cycle([pattern[k] for k in order])


def _con_id(*parts: object) -> int:
    return 800_000_000 + zlib.crc32(":".join(map(str, parts)).encode()) % 100_000_000


def _template(universe: Universe, calendar: str) -> Listing | None:
    return next(
        (x for x in universe.listings if x.sec_type == "STK" and x.calendar.name == calendar),
        None,
    )


def _listing(universe: Universe, symbol: str, venue: int, name: str) -> Listing | None:
    cal, primary, currency, tick, price = VENUES[venue]
    base = _template(universe, cal)
    if base is None:
        return None
    h = zlib.crc32(f"{symbol}:{primary}".encode())
    return replace(
        base,
        con_id=_con_id(symbol, primary, currency),
        symbol=symbol,
        primary_exchange=primary,
        currency=currency,
        local_symbol=symbol,
        trading_class=symbol,
        long_name=name,
        min_tick=tick,
        isin="",
        ref_price=round(price * (0.2 + (h % 1000) / 250), 2),
        avg_volume=50_000 + h % 5_000_000,
        industry=("Technology", "Financial", "Industrial", "Energy", "Consumer")[h % 5],
    )


def cross_listings(universe: Universe) -> list[Listing]:
    out = []
    for symbol, donor_primary, venue in CROSS_LISTINGS:
        donor = next(
            (
                x
                for x in universe.listings
                if x.symbol == symbol and x.primary_exchange == donor_primary
            ),
            None,
        )
        listing = donor and _listing(universe, symbol, venue, donor.long_name)
        if listing is not None:
            out.append(listing)
    return out


def synthetic_listings(universe: Universe, size: int) -> list[Listing]:
    """Listings to add so that ``universe`` grows to ``size`` (deterministic)."""
    used = {x.con_id for x in universe.listings}
    out: list[Listing] = []

    def add(made: Listing | None) -> None:
        if made is None:
            return
        con_id = made.con_id
        while con_id in used:  # a hash collision: take the next free id, still deterministic
            con_id += 1
        used.add(con_id)
        out.append(replace(made, con_id=con_id))

    for listing in cross_listings(universe):
        add(listing)
    venues, tickers = _venue_cycle(), _tickers()
    n = 0
    while len(universe.listings) + len(out) < size:
        symbol, venue = next(tickers), next(venues)
        add(_listing(universe, symbol, venue, f"{symbol} Synthetic Holdings"))
        n += 1
        if n % 10 == 0 and len(universe.listings) + len(out) < size:  # a second listing
            add(
                _listing(
                    universe, symbol, (venue + 2) % len(VENUES), f"{symbol} Synthetic Holdings"
                )
            )
    return out
