"""Fault injection: freeze, delay, drop, refuse, farms, connectivity, login, 2FA, control port."""

from __future__ import annotations

import asyncio
import json
import socket
import time

import pytest
from ib_async import IB

from tests.simulator.helpers import ErrorLog, connected, run
from traderctl.simulator import Scenario

pytestmark = pytest.mark.timeout(20)


def test_freeze_makes_current_time_time_out(sim_tws):
    async def body():
        async with connected(sim_tws) as ib:
            sim_tws.freeze()
            with pytest.raises(TimeoutError):
                await asyncio.wait_for(ib.reqCurrentTimeAsync(), 0.3)
            sim_tws.unfreeze()
            assert await asyncio.wait_for(ib.reqCurrentTimeAsync(), 5)  # generous: a loaded machine

    run(body())


def test_slow_replies(sim_tws):
    async def body():
        async with connected(sim_tws) as ib:
            sim_tws.set_delay(0.25, jitter=0.05)
            started = time.perf_counter()
            await ib.reqCurrentTimeAsync()
            slow = time.perf_counter() - started
            sim_tws.set_delay(0)
            started = time.perf_counter()
            await ib.reqCurrentTimeAsync()
            return slow, time.perf_counter() - started

    slow, fast = run(body())
    assert 0.25 <= slow < 0.6 and fast < 0.1


def test_drop_refuse_accept(sim_tws):
    async def body():
        async with connected(sim_tws) as ib:
            gone = asyncio.Event()
            ib.disconnectedEvent += gone.set
            assert sim_tws.drop_connections() == 1
            await asyncio.wait_for(gone.wait(), 2)
            assert not ib.isConnected()
        sim_tws.refuse_connections()
        with pytest.raises(ConnectionRefusedError):
            await IB().connectAsync(sim_tws.host, sim_tws.port, clientId=1, timeout=1)
        sim_tws.accept_connections()
        async with connected(sim_tws) as ib2:
            assert ib2.isConnected()

    run(body())


def test_farm_and_connectivity_messages(sim_tws):
    async def body():
        ib = IB()
        errors = ErrorLog(ib)
        await ib.connectAsync(sim_tws.host, sim_tws.port, clientId=1, timeout=4)
        try:
            await errors.wait_for(2158)
            assert {2104, 2106, 2158} <= set(errors.codes())
            sim_tws.set_farm(2103, "usfarm")
            sim_tws.set_farm(2105, "ushmds")
            sim_tws.set_farm(2157, "secdefil")
            for code in (1100, 1101, 1102):
                sim_tws.set_connectivity(code)
            for code in (2103, 2105, 2157, 1100, 1101, 1102):
                req_id, _, _message = await errors.wait_for(code)
                assert req_id == -1
            assert "usfarm" in (await errors.wait_for(2103))[2]
            await asyncio.sleep(0.05)  # 1102 makes ib_async re-request the account summary
        finally:
            ib.disconnect()
        # a new connection learns the broken farm at connect time
        late = IB()
        late_errors = ErrorLog(late)
        await late.connectAsync(sim_tws.host, sim_tws.port, clientId=2, timeout=4)
        try:
            await late_errors.wait_for(2103)
        finally:
            late.disconnect()

    run(body())


def test_login_phase_closes_port_for_n_seconds(sim_tws):
    async def body():
        sim_tws.login_phase(0.4)
        with pytest.raises(ConnectionRefusedError):
            await IB().connectAsync(sim_tws.host, sim_tws.port, clientId=1, timeout=1)
        await asyncio.sleep(0.5)
        async with connected(sim_tws) as ib:
            assert ib.isConnected()

    run(body())


def test_second_factor_until_approved(sim_tws):
    async def body():
        sim_tws.second_factor_pending()
        await asyncio.sleep(0.3)
        with pytest.raises(ConnectionRefusedError):
            await IB().connectAsync(sim_tws.host, sim_tws.port, clientId=1, timeout=1)
        assert sim_tws.status()["second_factor_pending"]
        sim_tws.approve_second_factor()
        async with connected(sim_tws) as ib:
            assert ib.isConnected()

    run(body())


def test_control_channel_and_scenario_timeline(sim_tws_factory):
    scenario = Scenario.from_dict(
        {"faults": [{"at": 0.05, "action": "farm", "code": 2105, "farm": "ushmds"}]}
    )
    sim = sim_tws_factory(scenario=scenario, control_port=0)
    control_port = sim.sim._control.port

    def command(line: str) -> str:
        with socket.create_connection(("127.0.0.1", control_port), timeout=3) as s:
            f = s.makefile("rwb")
            f.write(line.encode() + b"\n")
            f.flush()
            return f.readline().decode().strip()

    async def body():
        ib = IB()
        errors = ErrorLog(ib)
        await ib.connectAsync(sim.host, sim.port, clientId=1, timeout=4)
        try:
            await errors.wait_for(2105)  # from the scenario timeline
            assert command("FREEZE") == "OK"
            assert json.loads(command("STATUS")[3:])["frozen"] is True
            with pytest.raises(TimeoutError):
                await asyncio.wait_for(ib.reqCurrentTimeAsync(), 0.2)
            assert command("UNFREEZE") == "OK"
            await asyncio.wait_for(ib.reqCurrentTimeAsync(), 1)
            assert command("FARM 2103 eufarm") == "OK"
            await errors.wait_for(2103)
            assert command("BOGUS").startswith("ERROR")
            assert json.loads(command("REQUESTS 3")[3:])[-1]["name"] == "reqCurrentTime"
        finally:
            ib.disconnect()

    run(body())
