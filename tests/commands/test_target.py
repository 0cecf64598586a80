"""Finding the supervisor without the config machinery (cli/target.py)."""

from __future__ import annotations

import os
from pathlib import Path

import pytest

from traderctl.cli.target import DEFAULT_LOCATIONS, config_file
from traderctl.config.loader import DEFAULT_LOCATIONS as LOADER_LOCATIONS
from traderctl.config.loader import find_config_file


@pytest.mark.parametrize("explicit, env, present", [
    (None, {}, []), ("x.yaml", {}, []), (None, {"TRADERCTL_CONFIG": "y.yaml"}, []),
    (None, {}, ["configs/trader.yaml"]), ("x.yaml", {"TRADERCTL_CONFIG": "y.yaml"}, []),
])
def test_the_same_file_as_the_loader(explicit: str | None, env: dict[str, str],
                                     present: list[str], tmp_path: Path,
                                     monkeypatch: pytest.MonkeyPatch) -> None:
    monkeypatch.chdir(tmp_path)
    for name in present:
        (tmp_path / name).parent.mkdir(parents=True)
        (tmp_path / name).write_text("{}\n")
    assert DEFAULT_LOCATIONS == LOADER_LOCATIONS
    assert config_file(explicit, env) == find_config_file(explicit, env)[0]
    assert os.getcwd() == str(tmp_path)


def test_the_record_lives_under_the_default_data_dir(monkeypatch: pytest.MonkeyPatch) -> None:
    from traderctl.cli.target import record_dir
    from traderctl.config.sections import default_data_dir

    monkeypatch.delenv("XDG_STATE_HOME", raising=False)
    assert record_dir() == os.path.join(default_data_dir(), "sockets")
