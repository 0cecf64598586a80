"""Each exit code of IBC's launcher, produced the way IBC produces it and named by traderctl:
1 (no java, from ibcstart.sh's own check), 76-86 (IBC's Java ErrorCodes 1100-1110 modulo
256, passed on by the script). The codes no retry can fix park the service in ``failed``.
87 and 143 are in test_ibc_sessions.py; 88 (looped by the script) in test_service.py."""

from __future__ import annotations

import pytest

from tests.tws.conftest import TwsRig
from traderctl.tws.ibclines import EXIT_CODES, PERMANENT_EXIT_CODES

JAVA_CODES = list(range(76, 87))


@pytest.fixture(scope="module")
def rig(rig_factory) -> TwsRig:
    rig = rig_factory("exits")
    nojava = rig.root / "jre-without-java"
    nojava.mkdir()
    rig.fake("code1", java_path=str(nojava))
    for code in JAVA_CODES:
        rig.fake(f"code{code}", {"ibc": {"exit_after": {"seconds": 0, "code": code}}},
                 restart="always" if code in PERMANENT_EXIT_CODES else "never")
    rig.start()
    return rig


@pytest.mark.parametrize("code", [1, *JAVA_CODES])
def test_each_exit_code_is_named_and_the_permanent_ones_park_the_service(
        rig: TwsRig, code: int) -> None:
    d = rig.daemons[0]
    name = f"code{code}"
    permanent = code in PERMANENT_EXIT_CODES
    status = d.wait_state(name, "failed" if permanent else "stopped", timeout=60)
    detail = f"exited with code {code}: IBC: {EXIT_CODES[code]}"
    assert status["detail"].startswith(detail), status["detail"]
    if permanent:
        assert status["detail"].endswith("retrying cannot fix it; waiting for an operator")
    (event,) = d.events("tws_ibc_exit", service=name)
    assert event["exit_code"] == code and event["permanent"] == permanent
    assert len(d.events(service=name, to="starting")) == 1
    if code != 1:  # java's code reached the script first, as IBC's does
        returned = d.events("tws_ibc_returned", service=name)
        assert [r["exit_code"] for r in returned] == [code]
