"""Handshake, full start-up sync, client ids, message rate."""

from __future__ import annotations

import asyncio
import socket
import struct
import time

import pytest
from ib_async import IB

from tests.simulator.helpers import ErrorLog, connected, run
from traderctl.simulator.protocol import encode_message, frame_text, split_fields

pytestmark = pytest.mark.timeout(20)


def test_full_connect_is_fast_and_synced(sim_tws):
    async def body():
        started = time.perf_counter()
        async with connected(sim_tws, raiseSyncErrors=True) as ib:
            elapsed = time.perf_counter() - started
            assert ib.isConnected()
            assert ib.managedAccounts() == ["DU123456"]
            assert ib.client.serverVersion() == 178
            assert ib.positions() == [] and ib.openTrades() == []
            assert any(v.tag == "NetLiquidation" for v in ib.accountValues())
            now = await ib.reqCurrentTimeAsync()
            assert abs(now.timestamp() - time.time()) < 5
        assert not ib.isConnected()
        return elapsed

    elapsed = run(body())
    # every End message answered: milliseconds, not ib_async's 4 s per missing reply
    assert elapsed < 0.5, elapsed
    names = {r.name for r in sim_tws.requests}
    assert {
        "startApi",
        "reqPositions",
        "reqOpenOrders",
        "reqCompletedOrders",
        "reqAccountUpdates",
        "reqAccountUpdatesMulti",
        "reqExecutions",
    } <= names


@pytest.mark.sim_tws(server_version=176)
def test_server_version_176(sim_tws):
    async def body():
        async with connected(sim_tws) as ib:
            assert ib.client.serverVersion() == 176
            [c] = await ib.qualifyContractsAsync(
                __import__("ib_async").Stock("AAPL", "SMART", "USD")
            )
            assert c.conId == 265598

    run(body())


def test_scenario_positions_and_executions(sim_tws_factory):
    sim = sim_tws_factory(
        scenario=__import__("traderctl.simulator", fromlist=["Scenario"]).Scenario.from_dict(
            {
                "accounts": ["DU111", "DU222"],
                "positions": [
                    {
                        "account": "DU111",
                        "symbol": "AAPL",
                        "currency": "USD",
                        "position": 100,
                        "avgCost": 150,
                    }
                ],
                "executions": [
                    {
                        "symbol": "SPY",
                        "currency": "USD",
                        "side": "BOT",
                        "shares": 5,
                        "price": 500.5,
                        "time": "2026-01-05T15:30:00Z",
                        "commission": 1.25,
                    }
                ],
            }
        )
    )

    async def body():
        async with connected(sim, raiseSyncErrors=True) as ib:
            assert ib.managedAccounts() == ["DU111", "DU222"]
            [pos] = ib.positions()
            assert (pos.account, pos.contract.conId, pos.position, pos.avgCost) == (
                "DU111",
                265598,
                100,
                150,
            )
            [fill] = ib.fills()
            assert fill.contract.symbol == "SPY" and fill.execution.shares == 5
            assert fill.commissionReport.commission == 1.25

    run(body())


def test_duplicate_client_id_gets_326_and_closed_socket(sim_tws):
    async def body():
        async with connected(sim_tws, client_id=7):
            ib2 = IB()
            errors = ErrorLog(ib2)
            with pytest.raises((TimeoutError, ConnectionError)):
                await ib2.connectAsync(sim_tws.host, sim_tws.port, clientId=7, timeout=1)
            assert 326 in errors.codes()

    run(body())
    # raw socket: the 326 error arrives, then the server closes the connection
    with (
        _raw_client(sim_tws.port, client_id=3) as first,
        _raw_client(sim_tws.port, client_id=3) as second,
    ):
        assert first is not None
        messages = _read_all(second)
        assert any(m[0] == "4" and m[3] == "326" for m in messages)


def test_message_rate_limit_error_100_then_disconnect(sim_tws):
    with _raw_client(sim_tws.port, client_id=5) as sock:
        sock.sendall(b"".join(encode_message([49, 1]) for _ in range(60)))
        messages = _read_all(sock)
    assert any(m[0] == "4" and m[3] == "100" for m in messages)
    # startApi is message 1 of the 50 allowed in the window, so 49 currentTime replies
    assert sum(1 for m in messages if m[0] == "49") == 49


class _raw_client:
    """Minimal TWS API client on a plain socket (handshake + startApi)."""

    def __init__(self, port: int, client_id: int) -> None:
        self.port, self.client_id = port, client_id

    def __enter__(self) -> socket.socket:
        sock = socket.create_connection(("127.0.0.1", self.port), timeout=3)
        sock.sendall(b"API\0" + frame_text("v157..178"))
        _read_msg(sock)  # version, time
        sock.sendall(encode_message([71, 2, self.client_id, ""]))
        self.sock = sock
        return sock

    def __exit__(self, *exc: object) -> None:
        self.sock.close()


def _read_msg(sock: socket.socket) -> list[str] | None:
    header = _recv_exact(sock, 4)
    if header is None:
        return None
    body = _recv_exact(sock, struct.unpack(">I", header)[0])
    return None if body is None else split_fields(body)


def _recv_exact(sock: socket.socket, n: int) -> bytes | None:
    data = b""
    while len(data) < n:
        chunk = sock.recv(n - len(data))
        if not chunk:
            return None
        data += chunk
    return data


def _read_all(sock: socket.socket) -> list[list[str]]:
    """Read until the server closes the socket (fails the test on timeout)."""
    out = []
    while (msg := _read_msg(sock)) is not None:
        out.append(msg)
    return out


def test_freeze_holds_handshake_then_answers(sim_tws):
    sim_tws.freeze()

    async def body():
        ib = IB()
        with pytest.raises(TimeoutError):
            await ib.connectAsync(sim_tws.host, sim_tws.port, clientId=1, timeout=0.3)
        sim_tws.unfreeze()
        async with connected(sim_tws, client_id=2) as ib2:
            assert ib2.isConnected()
        await asyncio.sleep(0)

    run(body())


def test_single_account_portfolio_rows(sim_tws_factory):
    from traderctl.simulator import Scenario

    sim = sim_tws_factory(
        scenario=Scenario.from_dict(
            {
                "accounts": ["DU333"],
                "positions": [
                    {
                        "account": "DU333",
                        "symbol": "AAPL",
                        "currency": "USD",
                        "position": 10,
                        "avgCost": 150,
                    }
                ],
            }
        )
    )

    async def body():
        async with connected(sim, raiseSyncErrors=True) as ib:
            [item] = ib.portfolio()
            assert (item.account, item.contract.conId, item.contract.symbol) == (
                "DU333",
                265598,
                "AAPL",
            )
            assert item.contract.primaryExchange == "NASDAQ" and item.position == 10
            assert item.marketPrice > 0 and item.averageCost == 150
            assert round(item.marketValue, 2) == round(item.marketPrice * 10, 2)

    run(body())
