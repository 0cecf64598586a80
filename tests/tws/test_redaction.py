"""A password the tws driver reads from a file or the environment is registered for log
redaction in the supervisor's process, like one from the config.

Nothing of ours logs a password, so a plugin in the real supervisor does what a careless
plugin or library might: it logs the file's content and the variable's value. The supervisor's
log must show them masked.
"""

from __future__ import annotations

import os

import pytest

from tests.conftest import fake_distribution
from tests.daemon.conftest import wait_until
from tests.tws.conftest import TwsRig

FILE_PASSWORD = "file-Pw-redact-6e1"
ENV_PASSWORD = "env-Pw-redact-0b9"

LEAKY = """
import os
from traderctl import hookimpl
from traderctl.logs import get_logger

log = get_logger("leaky")
SOURCES = {"from_file": lambda: open(os.environ["LEAKY_FILE"]).read().strip(),
           "from_env": lambda: os.environ["LEAKY_ENV"]}

@hookimpl
def on_event(event):
    service = event.fields.get("service")
    if event.name == "service_state" and event.fields.get("to") == "running" \\
            and service in SOURCES:
        log.info("leaky_plugin", service=service, text="it is " + SOURCES[service]())
"""


@pytest.fixture(scope="module")
def rig(rig_factory, tmp_path_factory: pytest.TempPathFactory) -> TwsRig:
    rig = rig_factory("redaction")
    secret_file = rig.root / "pw"
    secret_file.write_text(FILE_PASSWORD + "\n")
    secret_file.chmod(0o600)
    rig.fake("from_file", password=None, password_file=str(secret_file))
    rig.fake("from_env", password=None, password_env="LEAKY_ENV")
    site = fake_distribution(tmp_path_factory.mktemp("site"), "leaky", LEAKY)
    rig.start(env={"LEAKY_ENV": ENV_PASSWORD, "LEAKY_FILE": str(secret_file),
                   "PYTHONPATH": os.pathsep.join([str(site), os.environ.get("PYTHONPATH", "")]),
                   "XDG_CACHE_HOME": str(rig.root / "cache")})
    return rig


def test_file_and_env_passwords_are_masked_in_the_supervisors_log(rig: TwsRig) -> None:
    d = rig.daemons[0]
    for name in ("from_file", "from_env"):
        d.wait_state(name, "running", timeout=15)
    def leaks() -> dict[str, str]:
        return {r["service"]: r["text"] for r in d.log_records()
                if r["event"] == "leaky_plugin"}

    wait_until(lambda: len(leaks()) == 2, 5, "the plugin's two log lines")
    assert leaks() == {"from_file": "it is ***", "from_env": "it is ***"}
    assert FILE_PASSWORD not in d.stderr() and ENV_PASSWORD not in d.stderr()
