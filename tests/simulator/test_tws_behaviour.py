"""TWS's own answers: version negotiation, 321 for a contract without exchange, unknown ids."""

from __future__ import annotations

import asyncio
import struct

import pytest
from ib_async import Contract, MarketOrder, Stock

from tests.simulator.helpers import ErrorLog, connected, run
from traderctl.simulator.protocol import frame_text, split_fields

pytestmark = pytest.mark.timeout(20)


async def _raw_handshake(sim, versions: str) -> tuple[asyncio.StreamReader, asyncio.StreamWriter]:
    reader, writer = await asyncio.open_connection(sim.host, sim.port)
    writer.write(b"API\0" + frame_text(versions))
    await writer.drain()
    return reader, writer


async def _read(reader: asyncio.StreamReader) -> list[str]:
    size = struct.unpack(">I", await reader.readexactly(4))[0]
    return split_fields(await reader.readexactly(size))


def test_old_client_is_refused_with_a_clear_error(sim_tws):
    async def body():
        reader, writer = await _raw_handshake(sim_tws, "v100..151")
        hello = await _read(reader)
        error = await _read(reader)
        rest = await reader.read()  # then the simulator closes
        writer.close()
        return hello, error, rest

    hello, error, rest = run(body())
    assert hello[0] == "151"  # answered in the client's own version
    assert error[:4] == ["4", "2", "-1", "502"] and "176..178" in error[4]
    assert rest == b""


def test_negotiates_the_highest_common_version(sim_tws):
    async def body():
        reader, writer = await _raw_handshake(sim_tws, "v100..177")
        hello = await _read(reader)
        writer.close()
        return hello

    assert run(body())[0] == "177"


def test_order_without_exchange_gets_321_not_200(sim_tws):
    async def body():
        async with connected(sim_tws) as ib:
            errors = ErrorLog(ib)
            trade = ib.placeOrder(Stock("XXX"), MarketOrder("BUY", 100))
            err = await errors.wait_for(321)
            ib.client.reqMktData(ib.client.getReqId(), Stock("XXX"), "", False, False, [])
            await asyncio.sleep(0.2)
            return trade, err, errors

    trade, err, errors = run(body())
    assert err[0] == trade.order.orderId and "Missing order exchange" in err[2]
    assert errors.codes().count(321) == 2 and 200 not in errors.codes()


def test_unknown_and_unsupported_message_ids_get_an_error(sim_tws):
    async def body():
        async with connected(sim_tws) as ib:
            errors = ErrorLog(ib)
            ib.client.send(999, 1, 2, 3)  # no such request in the TWS API
            await errors.wait_for(505)
            scan = asyncio.ensure_future(
                ib.reqFundamentalDataAsync(
                    Contract(conId=265598, exchange="SMART"), "ReportSnapshot"
                )
            )
            err = await errors.wait_for(322)
            await asyncio.wait_for(scan, 2)  # the request ends instead of hanging
            return err

    err = run(body())
    assert "reqFundamentalData is not supported" in err[2]
