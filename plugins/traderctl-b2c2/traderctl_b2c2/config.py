"""The ``b2c2`` config section and the settings a command derives from it.

Light on purpose (imported by the entry module): only traderctl's config types.
"""

from __future__ import annotations

from collections.abc import Mapping
from dataclasses import dataclass, field
from decimal import Decimal
from typing import Any

from traderctl.config import Choice, ConfigSection, Duration, Field, Float, Section, Str
from traderctl.config.schema import Context, Path

URLS: dict[str, tuple[str, str]] = {
    "production": ("https://api.b2c2.net", "wss://socket.b2c2.net/quotes"),
    "uat": ("https://api.uat.b2c2.net", "wss://socket.uat.b2c2.net/quotes"),
}
ENV_KEY = "B2C2_APIKEY"
URL = r"https?://\S+"
WS_URL = r"wss?://\S+"


class B2C2Section(Section):
    """``env: custom`` needs both URLs; checked with the rest of the file (file:line)."""

    def convert(self, value: Any, path: Path, ctx: Context) -> dict[str, Any]:
        data = super().convert(value, path, ctx)
        if data.get("env") == "custom":
            for key in ("api_url", "ws_url"):
                if not data.get(key):
                    ctx.report((*path, key), "required when b2c2.env is custom")
        return data


def section() -> ConfigSection:
    return ConfigSection("b2c2", B2C2Section({
        "env": Field(Choice("uat", "production", "custom"), "uat",
                     "Which B2C2 environment: uat, production, or custom (api_url + ws_url)."),
        "api_url": Field(Str(URL, "an http(s) URL"), None,
                         "REST base URL; overrides the env's."),
        "ws_url": Field(Str(WS_URL, "a ws(s) URL"), None,
                        "WebSocket URL (…/quotes); overrides the env's."),
        "api_key": Field(Str(), None, f"API token; the environment variable {ENV_KEY} is "
                         "used when this is not set.", secret=True),
        "timeout": Field(Duration(min=0.1), 10.0, "Per-request timeout."),
        "max_quantity": Field(Float(min=0), None, "Refuse trades above this quantity."),
        "max_notional": Field(Float(min=0), None,
                              "Refuse trades above this quantity x price (quote currency)."),
        "stale_after": Field(Duration(min=0.1), 30.0,
                             "A price stream silent this long is stale: reconnect."),
    }, doc="B2C2 request-for-quote venue (traderctl-b2c2)."))


@dataclass(frozen=True)
class Settings:
    env: str
    api_url: str
    ws_url: str
    api_key: str | None = field(repr=False)
    timeout: float = 10.0
    max_quantity: Decimal | None = None
    max_notional: Decimal | None = None
    stale_after: float = 30.0

    @classmethod
    def from_config(cls, config: Any, environ: Mapping[str, str]) -> Settings:
        env = config.get("b2c2.env", "uat")
        api_url, ws_url = URLS.get(env, ("", ""))
        key = config.get("b2c2.api_key") or environ.get(ENV_KEY) or None
        return cls(env=env, api_url=config.get("b2c2.api_url") or api_url,
                   ws_url=config.get("b2c2.ws_url") or ws_url, api_key=key,
                   timeout=config.get("b2c2.timeout", 10.0),
                   max_quantity=_decimal(config.get("b2c2.max_quantity")),
                   max_notional=_decimal(config.get("b2c2.max_notional")),
                   stale_after=config.get("b2c2.stale_after", 30.0))


def _decimal(value: float | None) -> Decimal | None:
    return None if value is None else Decimal(str(value))
