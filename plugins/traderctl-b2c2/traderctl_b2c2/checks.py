"""Checks for ``traderctl check``: the REST API answers with the key; prices are fresh."""

from __future__ import annotations

from typing import Any

from traderctl.checks import CheckResult
from traderctl_b2c2.config import ENV_KEY, Settings

STREAM_INSTRUMENT = "BTCUSD.SPOT"


def _settings(ctx: Any) -> Settings | None:
    import os

    from traderctl.logs import add_secrets

    settings = Settings.from_config(ctx.config, os.environ)
    if settings.api_key:
        add_secrets([settings.api_key])
    return settings if settings.api_key else None


def api_answers(ctx: Any) -> CheckResult:
    from traderctl_b2c2.errors import B2C2Error
    from traderctl_b2c2.rest import RestClient

    settings = _settings(ctx)
    if settings is None:
        return CheckResult("disabled", f"no b2c2.api_key (nor {ENV_KEY})")
    assert settings.api_key is not None
    with RestClient(settings.api_url, settings.api_key, timeout=settings.timeout,
                    max_retries=1) as client:
        try:
            balances = client.balance()
        except B2C2Error as exc:
            return CheckResult("fail", str(exc), {"url": settings.api_url, **exc.to_dict()})
    return CheckResult("ok", f"{settings.api_url} answers: {len(balances.root)} balances",
                       {"url": settings.api_url, "request_id": client.last_request_id})


async def stream_fresh(ctx: Any) -> CheckResult:
    import asyncio
    from datetime import UTC, datetime

    from traderctl_b2c2.errors import B2C2Error
    from traderctl_b2c2.feed import PriceFeed

    settings = _settings(ctx)
    if settings is None:
        return CheckResult("disabled", f"no b2c2.api_key (nor {ENV_KEY})")
    assert settings.api_key is not None
    wait = min(settings.stale_after, settings.timeout)
    feed = PriceFeed(settings.ws_url, settings.api_key, ack_timeout=settings.timeout)
    try:
        await feed.start(wait=settings.timeout)
        async with await feed.subscribe(STREAM_INSTRUMENT, [1]) as consumer:
            price = await asyncio.wait_for(consumer.get(), wait)
    except TimeoutError:
        return CheckResult("fail", f"no {STREAM_INSTRUMENT} price within {wait:g}s",
                           {"url": settings.ws_url})
    except (B2C2Error, OSError) as exc:
        return CheckResult("fail", str(exc), {"url": settings.ws_url})
    finally:
        await feed.close()
    age = (datetime.now(UTC) - price.timestamp).total_seconds()
    return CheckResult("ok" if age <= settings.stale_after else "warn",
                       f"{STREAM_INSTRUMENT} price {age:.1f}s old",
                       {"url": settings.ws_url, "age_seconds": round(age, 3)})
