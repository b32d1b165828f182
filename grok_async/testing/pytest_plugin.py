"""pytest plugin (entry point ``pytest11``): the ``fake_grok`` and ``instant_retries``
fixtures.

``fake_grok`` yields a started ``FakeGrok``. With pytest-asyncio installed it serves an
``async def`` test from the test's own event loop; a plain ``def`` test (one that drives
FastAPI's or Starlette's sync ``TestClient``, say) and any test without pytest-asyncio get
a server running in a background thread, since no event loop runs while such a test
does. Options come from a ``fake_grok`` marker::

    @pytest.mark.fake_grok(api_key="secret", latency=0.01)
    async def test_something(fake_grok): ...

``instant_retries`` makes every retry of the test happen at once and yields the list of
the waits it skipped (see :func:`grok_async.testing.instant_retries`).
"""

from __future__ import annotations

import asyncio
import importlib.util
import inspect
from collections.abc import AsyncIterator, Iterator
from typing import Any

import pytest

from ._fake import FakeGrok
from ._instant import instant_retries as _instant_retries

__all__ = ["fake_grok_options", "pytest_configure"]


def pytest_configure(config: pytest.Config) -> None:
    """Register the ``fake_grok`` marker (the suite runs with ``--strict-markers``)."""
    config.addinivalue_line(
        "markers", "fake_grok(**options): keyword arguments for the fake_grok fixture's FakeGrok"
    )


@pytest.fixture(name="instant_retries")
def _instant_retries_fixture() -> Iterator[list[float]]:
    """Retries without waiting for the test; yields the waits that were skipped."""
    with _instant_retries() as waits:
        yield waits


def _is_sync_test(request: pytest.FixtureRequest) -> bool:
    """Whether the test asking for the fixture is a plain ``def`` (no loop runs during it)."""
    function = getattr(request, "function", None)
    return function is not None and not inspect.iscoroutinefunction(function)


def fake_grok_options(request: pytest.FixtureRequest) -> dict[str, Any]:
    """The FakeGrok options of the ``fake_grok`` marker nearest to the test."""
    marker = request.node.get_closest_marker("fake_grok")
    return dict(marker.kwargs) if marker is not None else {}


if importlib.util.find_spec("pytest_asyncio") is not None:
    import pytest_asyncio

    @pytest_asyncio.fixture(name="fake_grok")
    async def _fake_grok_in_loop(request: pytest.FixtureRequest) -> AsyncIterator[FakeGrok]:
        """A FakeGrok serving from the test's event loop, or from a thread for a sync test."""
        fake = FakeGrok(**fake_grok_options(request))
        if _is_sync_test(request):
            # The loop this fixture runs on is idle while a sync test runs: a server on it
            # would never answer, and the test would hang until its timeout.
            await asyncio.to_thread(fake.start_in_thread)
            try:
                yield fake
            finally:
                await asyncio.to_thread(fake.stop_in_thread)
            return
        async with fake:
            yield fake

else:

    @pytest.fixture(name="fake_grok")
    def _fake_grok_in_thread(request: pytest.FixtureRequest) -> Iterator[FakeGrok]:
        """A FakeGrok serving from a background thread (pytest-asyncio is not installed)."""
        with FakeGrok(**fake_grok_options(request)) as fake:
            yield fake
