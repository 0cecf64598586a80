"""Simulated TWS / IB Gateway speaking the real TWS API wire protocol.

An unmodified ``ib_async.IB().connect()`` completes its whole start-up sync
against it in milliseconds, and IB's official client (``ibapi`` 10.x, which
offers up to v226) gets v178 and works as well; contract details come from
the packaged ``universe.json`` (real tickers on US, European and
Asia-Pacific venues plus IDEALPRO FX), plus
futures, continuous futures and option chains generated for today
(:mod:`.instruments`) and, on request, synthetic stocks up to any size
(:mod:`.synthetic`). One deterministic price path per contract
(:mod:`.bars`, :mod:`.market`) feeds historical bars, streaming and snapshot
market data (:mod:`.mktdata`), tick-by-tick, real-time bars and
keepUpToDate updates (:mod:`.livebars`), conditions and a matching engine
that fills orders (:mod:`.matching`) into an account model with commissions,
margin and P&L (:mod:`.ledger`, :mod:`.pnl`). Sessions, holidays and early
closes follow exchange_calendars (:mod:`.hours`, :mod:`.holidays`). IB's
limits and failure modes can be switched on at will.

Layout: :mod:`.server` assembles the parts; :mod:`.listener` owns the port
and connections, :mod:`.switches` the fault switches, :mod:`.session` one
client's framing and dispatch, :mod:`.orderbook` the orders. The core is
stdlib-only (structlog when installed, PyYAML only for .yaml scenarios,
exchange_calendars when installed) and never imports ib_async.

In-process use (one event loop)::

    async with SimTWS(port=0, time_scale=0.01) as sim:
        ib = IB(); await ib.connectAsync("127.0.0.1", sim.port, clientId=1)
        await sim.freeze(); ...; await sim.unfreeze()
        sim.orders        # OrderRecord per placeOrder, fields as decoded from the wire

From synchronous code / pytest (``sim_tws`` fixture in ``traderctl.pytest_plugin``)::

    with SimTWSThread(time_scale=0.01) as sim:   # own loop in a thread
        sim.freeze(); sim.set_farm(2103, "usfarm"); sim.orders

As a process::

    traderctl sim-tws --port 7497 --scenario s.yaml --time-scale 0.01
    PYTHONPATH=supervisor python3 -m traderctl.simulator --port 7497 --control-port 7470

Driving faults in a running process: pass ``--control-port`` (or
``control_port:`` via the API) and send text lines to 127.0.0.1:<port>, one
command per line, e.g. ``printf 'FREEZE\\n' | nc 127.0.0.1 7470``. Replies are
``OK ...`` / ``ERROR ...``. Commands: PING, STATUS, FREEZE, UNFREEZE,
DELAY s [jitter], DROP, REFUSE, ACCEPT, FARM code farm, CONNECTIVITY code,
LOGIN s, SECOND_FACTOR, APPROVE, RESTART [s], TRIGGER orderId, ORDERS,
REQUESTS [n], PRICE symbol price, GAP symbol percent, HALT symbol,
RESUME symbol (see :mod:`traderctl.simulator.control`). A scenario file can
schedule the same actions (``faults: [{at: 5, action: freeze}]``, see
:mod:`traderctl.simulator.scenario`). SIGTERM/SIGINT stop the process cleanly.

Limits (on unless ``limits=False`` / ``--no-limits``): historical pacing for
bars of 30 s or less (identical within 15 s, 6 per contract+exchange+type in
2 s, 60 per 10 min, BID_ASK counts twice) -> error 162; for 1 min bars and up
no hard rules but a soft throttle (replies held once past 60 per 10 min) and
at most 50 simultaneous requests -> error 322 (details in
:mod:`traderctl.simulator.pacing`); 50 messages/s per connection -> error 100
and disconnect; IB's maximum duration per bar size -> error 162 "Time length
exceed max."; duplicate client id -> 326 and the socket is closed.
``time_scale`` multiplies every limit window (0.01 turns 10 minutes into 6 s).

The fake IBC launcher (``ibc/fake/scripts/ibcstart.sh``) is
:mod:`traderctl.simulator.fake_ibc`.
"""

from .runner import serve_forever
from .scenario import Scenario, load_scenario
from .server import SimConfig, SimTWS
from .threaded import SimTWSThread
from .universe import Universe

__all__ = [
    "Scenario",
    "SimConfig",
    "SimTWS",
    "SimTWSThread",
    "Universe",
    "load_scenario",
    "serve_forever",
]
