"""A local fake B2C2 venue (REST + WebSocket on 127.0.0.1) for tests, benchmarks and demos.

It follows the documented shapes (b2c2-api.md), keeps balances that move with trades, quotes
with a validity window, FOK orders filled or rejected against the quote, the error codes
clients must handle, a deterministic price stream per subscription and level, and fault
switches (drop connections, stop pricing, slow frames, rate limiting).
"""

from traderctl_b2c2.sim.venue import FakeVenue

__all__ = ["FakeVenue"]
