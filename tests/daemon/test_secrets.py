"""Secrets held by the supervisor never reach a child's environment."""

from __future__ import annotations

import json
from pathlib import Path

from tests.daemon.conftest import child, wait_until

PASSWORD = "hunter2-very-secret"
USERNAME = "ib-login-secret"


def test_children_and_probes_get_no_secret_variables(daemon, tmp_path: Path) -> None:
    service_env, probe_env = tmp_path / "service.json", tmp_path / "probe.json"
    d = daemon(f"""
        tws:
          type: tws
          mode: paper
          autostart: false
          tws_version: "1030"
          password_env: IB_PASSWORD
        app:
          command: {child("env_dump", service_env)}
          env: {{OWN: mine}}
          readiness:
            command: {child("env_dump", probe_env, 0)}
    """, env={"IB_PASSWORD": PASSWORD, "TRADERCTL_SERVICES__TWS__USERNAME": USERNAME,
              "HARMLESS": "kept"})
    d.wait_state("app", "running")
    wait_until(lambda: service_env.exists() and probe_env.exists(), 10, "both dumps")
    for dump in (service_env, probe_env):
        env = json.loads(dump.read_text())
        assert "IB_PASSWORD" not in env and "TRADERCTL_SERVICES__TWS__USERNAME" not in env
        assert PASSWORD not in dump.read_text() and USERNAME not in dump.read_text()
        assert env["HARMLESS"] == "kept"
    assert json.loads(service_env.read_text())["OWN"] == "mine"
