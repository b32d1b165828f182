"""A local emulator of the xAI Grok API for tests, demos and benchmarks.

``FakeGrok`` serves xAI's REST wire format on a real local socket; script it with
``Reply`` and ``Fault``, inspect what it received with ``RecordedRequest`` and ``Stats``::

    from grok_async.testing import FakeGrok, Fault, Reply

    async with FakeGrok() as fake:
        fake.enqueue(Fault.status(503, retry_after=0), Reply("Hello!"))
        ...  # point a client at fake.base_url

With pytest, the ``fake_grok`` fixture (``grok_async.testing.pytest_plugin``) yields a
started ``FakeGrok``. ``instant_retries()`` makes every retry happen at once (no backoff
sleeps in your tests), and records the waits it skipped.
"""

from __future__ import annotations

from ._fake import FakeGrok
from ._faults import Fault
from ._instant import instant_retries
from ._records import RecordedRequest, Stats
from ._replies import Reply, default_reply

__all__ = [
    "FakeGrok",
    "Fault",
    "RecordedRequest",
    "Reply",
    "Stats",
    "default_reply",
    "instant_retries",
]

for _exported in (FakeGrok, Fault, RecordedRequest, Reply, Stats, default_reply, instant_retries):
    _exported.__module__ = __name__
del _exported
