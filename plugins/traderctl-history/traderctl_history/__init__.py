"""traderctl-history: historical bars from IB into ArcticDB."""
