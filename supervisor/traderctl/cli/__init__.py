"""The ``traderctl`` command line."""
