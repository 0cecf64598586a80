"""traderctl-orders: order placement with IB order conditions (see plugin.py)."""
