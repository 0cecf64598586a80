"""``traderctl b2c2 ...``: one module per command family; the group module is light."""
