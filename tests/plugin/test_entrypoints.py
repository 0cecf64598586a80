"""The entry-point cache: a hit skips importlib.metadata, an install invalidates it."""

from __future__ import annotations

import sys
from pathlib import Path

import pytest

from tests.conftest import fake_distribution
from traderctl.plugin import entrypoints


@pytest.fixture
def cache_home(tmp_path: Path, monkeypatch: pytest.MonkeyPatch) -> Path:
    monkeypatch.setenv("XDG_CACHE_HOME", str(tmp_path / "cache"))
    return tmp_path / "cache"


def names() -> set[str]:
    return {ep.name for ep in entrypoints.discover("traderctl")}


def test_installing_a_distribution_invalidates_the_cache(cache_home, tmp_path, monkeypatch):
    site = tmp_path / "site"
    site.mkdir()
    monkeypatch.syspath_prepend(str(site))
    before = names()
    assert "late" not in before and "hello" in before
    assert names() == before  # served from the cache
    fake_distribution(site, "late", "x = 1\n")
    assert "late" in names()
    assert len(list((cache_home / "traderctl").iterdir())) == 1


def test_a_cache_hit_does_not_read_distribution_metadata(cache_home) -> None:
    import os
    import subprocess

    code = "from traderctl.plugin.entrypoints import discover; discover('traderctl')"
    env = {**os.environ, "XDG_CACHE_HOME": str(cache_home)}

    def imports() -> str:
        return subprocess.run([sys.executable, "-X", "importtime", "-c", code], env=env,
                              capture_output=True, text=True, check=True).stderr

    assert "importlib.metadata" in imports()  # first run: a scan fills the cache
    assert "importlib.metadata" not in imports()  # second run: the cache answers


@pytest.mark.parametrize("content", ["[1, 2]", "{\"entries\": 3}", "not json"])
def test_a_damaged_cache_is_scanned_again(cache_home, content: str) -> None:
    before = names()
    (cache_file,) = (cache_home / "traderctl").iterdir()
    cache_file.write_text(content)
    assert names() == before
