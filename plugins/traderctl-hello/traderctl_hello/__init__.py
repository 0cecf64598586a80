"""Example traderctl plugin (see plugin.py)."""
