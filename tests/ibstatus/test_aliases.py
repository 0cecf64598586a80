"""Alias matching: names and codes are found, English words and word fragments are not."""

import pytest

from traderctl.ibstatus.aliases import AliasTable, is_code, load_alias_table, shipped_table

pytestmark = pytest.mark.timeout(10)


def found(text: str, table: AliasTable | None = None) -> set[str]:
    match = (table or shipped_table()).find(text)
    return set(match.exchanges) | set(match.systems)


@pytest.mark.parametrize(
    ("text", "expected"),
    [
        ("NYSE - order routing interrupted", {"NYSE", "order_routing"}),
        ("Orders to the New York Stock Exchange fail", {"NYSE", "order_routing"}),
        ("new york   stock\nexchange is down", {"NYSE"}),
        ("XNYS halted", {"NYSE"}),
        ("ISLAND and Nasdaq delays", {"NASDAQ"}),
        ("NASDAQ delays", {"NASDAQ"}),
        ("Xetra release test", {"IBIS"}),
        ("XETRA release test", {"IBIS"}),
        ("ICE Futures Europe halted", {"ICE"}),
        ("ICE halted", {"ICE"}),
        ("ASX: trading halted", {"ASX"}),
        ("Oslo Børs closed", {"OSE"}),
        ("OSE closed", {"OSE"}),
        ("OSE.JPN closed", {"OSE.JPN"}),
        ("SIX Swiss Exchange and EBS", {"EBS"}),
        ("BM (Madrid) and MEFF", {"BM", "MEFF"}),
        ("the NYSE's opening", {"NYSE"}),
        ("CME/GLOBEX", {"CME"}),
        ("Euronext Paris, Euronext Amsterdam", {"SBF", "AEB"}),
        ("KSE orders are rejected", {"KSE", "order_routing"}),
        ("NSE India", {"NSE"}),
        ("Cannot log in to TWS or IB Gateway", {"login", "trading_platform"}),
        ("Historical market data (HMDS) unavailable", {"historical_data"}),
        ("Market data farm disconnected", {"market_data"}),
    ],
)
def test_finds_names_and_codes(text, expected):
    assert found(text) == expected


@pytest.mark.parametrize(
    "text",
    [
        "Our service is slow tonight",          # ICE inside "service"
        "ice on the roads",                     # ice as an English word
        "Please close positions",               # OSE inside "close"
        "ose",                                  # lower-case code
        "NASX and BASX are not ASX",            # ASX: only the last one counts (checked below)
        "IBM announced results",                # BM inside IBM
        "The box was delivered",                # BOX options exchange vs a box
        "six people called",                    # SIX vs six
        "an iced coffee; priceless",            # ICE inside words
        "Oasis in the desert",                  # no venue at all
        "CBOEX and XNYSE are not codes",        # codes glued to more letters
        "in order to continue, restart",        # 'order' alone is not order routing
    ],
)
def test_no_false_positives(text):
    hits = found(text)
    if text.startswith("NASX"):
        assert hits == {"ASX"}
    else:
        assert hits == set(), hits


def test_longest_alias_wins():
    assert found("NYSE Arca halted") == {"ARCA"}
    assert found("NYSE American halted") == {"AMEX"}
    assert found("Nasdaq Stockholm closed") == {"SFB"}
    assert found("Cboe Futures Exchange") == {"CFE"}
    assert found("NYSE and NYSE Arca") == {"NYSE", "ARCA"}


def test_is_code_rule():
    assert is_code("ICE") and is_code("OSE.JPN") and is_code("2FA")
    assert not is_code("Xetra") and not is_code("New York Stock Exchange")


def test_config_aliases_extend_and_override():
    table = load_alias_table({"Deutsche Boerse": "IBIS", "JSE": "JSE", "Joburg": "JSE",
                              "desk app": "trading_platform", "Nasdaq": "SFB"})
    assert found("deutsche boerse outage", table) == {"IBIS"}
    assert found("Joburg and JSE down", table) == {"JSE"}
    assert found("The desk app crashed", table) == {"trading_platform"}
    # The user's "Nasdaq" -> SFB wins over the shipped name, in any case.
    assert found("NASDAQ down", table) == {"SFB"}
    # A target may be an alias the user just added.
    chained = load_alias_table({"JSE Ltd": "JSE", "Joburg": "jse ltd"})
    assert found("Joburg", chained) == {"JSE"}
    # The shipped table itself is not modified.
    assert found("Nasdaq down") == {"NASDAQ"}


def test_user_exchanges_resolve_and_unknown_ones_become_codes():
    table = load_alias_table(exchanges=["xetra", "XNYS", "island", "BVMF"])
    assert table.resolve("xetra") == "IBIS"
    assert table.resolve("XNYS") == "NYSE"
    assert table.resolve("island") == "NASDAQ"
    assert table.resolve("BVMF") == "BVMF"
    assert found("BVMF halted", table) == {"BVMF"}
    assert shipped_table().resolve("BVMF") is None


def test_conflicting_table_is_refused():
    with pytest.raises(ValueError, match="conflicts"):
        AliasTable({"A": "A", "B": "B"}, {}, frozenset(), {"A": "A", "B": "B", "Foo": "A",
                                                            "foo": "B"})
    with pytest.raises(ValueError, match="undeclared"):
        AliasTable({"A": "A"}, {}, frozenset(), {"A": "A", "X": "Z"})


def test_shipped_table_covers_the_major_venues():
    table = shipped_table()
    for code in ["NYSE", "NASDAQ", "ARCA", "AMEX", "CBOE", "IEX", "CME", "CBOT", "NYMEX",
                 "COMEX", "CFE", "ICE", "TSX", "LSE", "IBIS", "FWB", "SBF", "AEB", "EBS",
                 "BVME", "BM", "SFB", "OSE", "CPH", "HEX", "VSE", "WSE", "EUREX", "MEFF",
                 "TSEJ", "SEHK", "SGX", "ASX", "KSE", "NSE", "MOEX"]:
        assert code in table.exchanges
    assert {"login", "trading_platform", "market_data", "order_routing"} <= table.critical_systems
    assert "client_portal" not in table.critical_systems
