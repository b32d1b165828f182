"""Batch input: JSONL in the OpenAI/xAI batch format, one request a line, read lazily.

``{"custom_id": "q-17", "method": "POST", "url": "/v1/chat/completions", "body": {...}}``
(``/v1/responses`` too). :func:`check_input` reads the whole file once before anything is
sent and reports every bad line with its number and the reason; :func:`iter_requests` then
reads it again, a line at a time, while the requests go out. Neither holds the file: the
``custom_id``\\ s that duplicates are looked for in go to an :class:`IdIndex`, which keeps
a bounded number in memory and the rest in temporary files (``_batch_ids``).
"""

from __future__ import annotations

from collections import Counter
from collections.abc import Iterator, Mapping
from pathlib import Path
from typing import Any

import attrs
import orjson

from ._batch_ids import IdIndex, id_digest
from ._budget import estimate_tokens
from ._errors import BatchInputError, LineProblem
from ._request_params import CHAT_PARAMETERS, RESPONSES_PARAMETERS

__all__ = [
    "BatchInputError",
    "BatchRequest",
    "InputReport",
    "LineProblem",
    "check_body",
    "check_input",
    "id_digest",
    "iter_requests",
    "parse_line",
    "scan_input",
]

#: The endpoints a line may name, and the API path each is sent to.
SUPPORTED_URLS = {"/v1/chat/completions": "/chat/completions", "/v1/responses": "/responses"}
# Body keys each endpoint requires, besides model; the rest must be known parameters.
_REQUIRED = {"/v1/chat/completions": "messages", "/v1/responses": "input"}
_ALLOWED = {
    "/v1/chat/completions": CHAT_PARAMETERS | {"model", "messages", "stream"},
    "/v1/responses": RESPONSES_PARAMETERS | {"model", "input", "stream"},
}
_OUTPUT_CAPS = ("max_tokens", "max_completion_tokens", "max_output_tokens")
# A report lists this many bad lines; it counts them all.
_SHOWN_PROBLEMS = 20


@attrs.frozen
class BatchRequest:
    """One valid input line."""

    line: int
    custom_id: str
    url: str
    body: Mapping[str, Any]

    @property
    def path(self) -> str:
        """The API path it goes to, e.g. ``/chat/completions``."""
        return SUPPORTED_URLS[self.url]

    @property
    def model(self) -> str:
        return str(self.body["model"])

    @property
    def output_cap(self) -> int | None:
        """The body's limit on generated tokens, if it sets one."""
        for key in _OUTPUT_CAPS:
            value = self.body.get(key)
            if isinstance(value, int) and not isinstance(value, bool):
                return value
        return None


class _Bad(Exception):
    """A line's problem, raised while checking it."""


def _check_body(url: str, body: Any) -> None:
    if not isinstance(body, dict):
        raise _Bad("'body' must be a JSON object of request parameters")
    model = body.get("model")
    if not isinstance(model, str) or not model:
        raise _Bad("body.model must be a non-empty string")
    required = _REQUIRED[url]
    value = body.get(required)
    if required == "messages":
        if not isinstance(value, list) or not value:
            raise _Bad("body.messages must be a non-empty list of messages")
        for n, message in enumerate(value):
            if not isinstance(message, dict) or not isinstance(message.get("role"), str):
                raise _Bad(f"body.messages[{n}] must be an object with a 'role'")
    elif not (isinstance(value, str) and value) and not (isinstance(value, list) and value):
        raise _Bad("body.input must be a non-empty string or list of input items")
    if body.get("stream"):
        raise _Bad("body.stream cannot be true in a batch (answers are written whole)")
    unknown = body.keys() - _ALLOWED[url]
    if unknown:
        raise _Bad(f"body has unknown parameter(s): {', '.join(sorted(unknown))}")


def check_body(url: str, body: Any) -> str | None:
    """Why ``body`` cannot be sent to ``url`` (one of :data:`SUPPORTED_URLS`), or None."""
    try:
        _check_body(url, body)
    except _Bad as exc:
        return str(exc)
    return None


def parse_line(raw: bytes, number: int) -> BatchRequest:
    """One line as a request; raises :class:`BatchInputError` naming the line and reason."""
    try:
        return _parse(raw, number)
    except _Bad as exc:
        raise BatchInputError("input", [LineProblem(number, str(exc))], 1) from None


def _parse(raw: bytes, number: int) -> BatchRequest:
    try:
        data = orjson.loads(raw)
    except orjson.JSONDecodeError as exc:
        raise _Bad(f"not JSON ({exc})") from None
    if not isinstance(data, dict):
        raise _Bad("not a JSON object")
    custom_id = data.get("custom_id")
    if custom_id is None:
        raise _Bad("missing custom_id")
    if not isinstance(custom_id, str) or not custom_id:
        raise _Bad("custom_id must be a non-empty string")
    method = data.get("method", "POST")
    if method != "POST":
        raise _Bad(f"method must be POST, not {method!r}")
    url = data.get("url")
    if url is None:
        raise _Bad("missing url")
    if url not in SUPPORTED_URLS:
        supported = ", ".join(SUPPORTED_URLS)
        raise _Bad(f"unsupported url {url!r} (supported: {supported})")
    if "body" not in data:
        raise _Bad("missing body")
    _check_body(url, data["body"])
    return BatchRequest(number, custom_id, url, data["body"])


def _lines(path: Path) -> Iterator[tuple[int, bytes]]:
    """``(number, content)`` of each non-blank line, one at a time."""
    with path.open("rb") as f:
        for number, raw in enumerate(f, 1):
            if raw.strip():
                yield number, raw


def iter_requests(path: str | Path) -> Iterator[BatchRequest]:
    """The file's requests in order, read lazily (checked by :func:`check_input` first)."""
    for number, raw in _lines(Path(path)):
        yield parse_line(raw, number)


@attrs.define
class InputReport:
    """What :func:`check_input` found: counts, a token estimate, and the bad lines."""

    path: str
    lines: int = 0
    requests: int = 0
    by_url: Counter[str] = attrs.field(factory=Counter)
    by_model: Counter[str] = attrs.field(factory=Counter)
    #: Estimated prompt tokens per model (request bytes / 4).
    prompt_tokens: Counter[str] = attrs.field(factory=Counter)
    #: The output caps (``max_tokens`` ...) summed per model, and lines without one.
    output_cap_tokens: Counter[str] = attrs.field(factory=Counter)
    uncapped: int = 0
    problems: list[LineProblem] = attrs.field(factory=list)
    problem_count: int = 0

    def add_problem(self, problem: LineProblem) -> None:
        """Count a bad line; keep it if it is among the first (by line number) shown."""
        self.problem_count += 1
        self.problems.append(problem)
        if len(self.problems) > _SHOWN_PROBLEMS:
            self.problems.remove(max(self.problems, key=lambda shown: shown.line))

    def raise_if_bad(self) -> None:
        """Raise :class:`BatchInputError` when any line is bad."""
        if self.problem_count:
            self.problems.sort(key=lambda problem: problem.line)
            raise BatchInputError(self.path, self.problems, self.problem_count)


def check_input(path: str | Path) -> InputReport:
    """Read the whole file once and report its requests and every bad line.

    Raises:
        OSError: the file cannot be read.
    """
    with IdIndex() as ids:
        return scan_input(path, ids)


def scan_input(path: str | Path, ids: IdIndex) -> InputReport:
    """:func:`check_input`, noting each request's ``custom_id`` and line in ``ids`` (which
    then knows, for a run, the lines OUTPUT answers already)."""
    file = Path(path)
    report = InputReport(str(path))
    size, read = max(file.stat().st_size, 1), 1

    def expected() -> int:  # the ids a file this size holds, from the lines read so far
        return report.requests * size // read

    ids.expected = expected
    for number, raw in _lines(file):
        read += len(raw)
        report.lines += 1
        try:
            request = _parse(raw, number)
        except _Bad as exc:
            report.add_problem(LineProblem(number, str(exc)))
            continue
        report.requests += 1
        first = ids.add(request.custom_id, number)
        if first is not None:
            report.add_problem(_duplicate(number, request.custom_id, first))
        report.by_url[request.url] += 1
        model = request.model
        report.by_model[model] += 1
        report.prompt_tokens[model] += estimate_tokens(orjson.dumps(request.body), None)
        cap = request.output_cap
        if cap is None:
            report.uncapped += 1
        else:
            report.output_cap_tokens[model] += cap
    for number, custom_id, first in ids.duplicates():
        report.add_problem(_duplicate(number, custom_id, first))
    return report


def _duplicate(number: int, custom_id: str, first: int) -> LineProblem:
    return LineProblem(number, f"duplicate custom_id {custom_id!r} (first on line {first})")
