"""The emulator's settings, checked once when a ``FakeGrok`` is made."""

from __future__ import annotations

from collections.abc import Mapping
from typing import Any

import attrs

from ._budgets import REFILLS, unknown_refill

__all__ = ["Options"]


def _positive_or_none(_instance: object, attribute: attrs.Attribute[Any], value: Any) -> None:
    if value is not None and value <= 0:
        raise ValueError(f"{attribute.name} must be > 0 or None, got {value!r}")


def _non_negative(_instance: object, attribute: attrs.Attribute[Any], value: Any) -> None:
    if value < 0:
        raise ValueError(f"{attribute.name} must be >= 0, got {value!r}")


def _positive(_instance: object, attribute: attrs.Attribute[Any], value: Any) -> None:
    if not value > 0:
        raise ValueError(f"{attribute.name} must be > 0, got {value!r}")


def _per_minute(_instance: object, attribute: attrs.Attribute[Any], value: Any) -> None:
    # Below one a bucket or window could never hold a single request.
    if value is not None and not value >= 1:
        raise ValueError(f"{attribute.name} must be >= 1 or None, got {value!r}")


def _refill(_instance: object, _attribute: attrs.Attribute[Any], value: Any) -> None:
    if value not in REFILLS:
        raise ValueError(unknown_refill(value))


@attrs.frozen
class Options:
    """The emulator's settings (documented on ``FakeGrok``)."""

    api_key: str | None = None
    models: tuple[str, ...] = ()
    fault_rates: Mapping[str, float] | None = None
    seed: int = 0
    stall_seconds: float = attrs.field(default=2.0, validator=_non_negative)
    retry_after: float = attrs.field(default=0.05, validator=_non_negative)
    latency: float = attrs.field(default=0.0, validator=_non_negative)
    tokens_per_second: float | None = attrs.field(default=None, validator=_positive_or_none)
    chunk_heartbeats: int = attrs.field(default=0, validator=_non_negative)
    requests_per_second: float | None = attrs.field(default=None, validator=_positive_or_none)
    burst: float | None = attrs.field(default=None, validator=_positive_or_none)
    max_in_flight: int | None = attrs.field(default=None, validator=_positive_or_none)
    requests_per_minute: float | None = attrs.field(default=None, validator=_per_minute)
    tokens_per_minute: float | None = attrs.field(default=None, validator=_per_minute)
    refill: str = attrs.field(default="bucket", validator=_refill)
    time_scale: float = attrs.field(default=1.0, validator=_positive)
    quota_exhausted: bool = False
    deferred_delay: float = attrs.field(default=0.0, validator=_non_negative)
    video_delay: float = attrs.field(default=0.0, validator=_non_negative)
    batch_delay: float = attrs.field(default=0.0, validator=_non_negative)
    record_requests: bool = True
