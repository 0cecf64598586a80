"""The typed shape of a service spec matches what the config layer builds."""

from __future__ import annotations

from pathlib import Path

from tests.services.test_runner import PROBES, TYPES, load
from traderctl.services.spec import ProbeConfig, ServiceSpec, base_fields, service_specs
from traderctl.tws.servicetype import TwsSpec, tws_fields


def keys(typed: type) -> set[str]:
    return set(typed.__required_keys__) | set(typed.__optional_keys__)  # type: ignore[attr-defined]


def test_the_typed_spec_names_every_key_the_config_layer_builds(tmp_path: Path) -> None:
    assert keys(ServiceSpec) == set(base_fields(TYPES, PROBES))
    assert keys(TwsSpec) == set(base_fields(TYPES, PROBES)) | set(tws_fields())
    config = load(tmp_path, """
        web:
          command: [sleep, "60"]
          readiness: {tcp: "127.0.0.1:8080"}
          liveness: {command: "true", interval: 1s}
    """)
    (spec,) = service_specs(config).values()
    assert set(spec) == keys(ServiceSpec)
    ready, live = spec["readiness"], spec["liveness"]
    assert ready is not None and live is not None
    assert set(ready) == set(ProbeConfig.__required_keys__)
    assert set(live) == keys(ProbeConfig)
    assert spec["backoff"] == {"initial": 1.0, "factor": 2.0, "max": 60.0, "jitter": 0.1}
