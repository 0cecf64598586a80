"""traderctl-b2c2: a B2C2 request-for-quote client for traderctl (see plugin.py for the hooks)."""

__version__ = "0.1.0"
