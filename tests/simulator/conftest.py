"""Simulator tests; fixtures from traderctl.pytest_plugin (pytest11 entry point)."""
