"""OpenTelemetry spans for calls (the optional ``otel`` extra).

Imported only when a client is built with ``tracing=``: without it, nothing here (nor
OpenTelemetry) is ever imported.

One CLIENT span per call, named after the GenAI semantic conventions
(``"chat grok-4"``), with the model, token usage, finish reasons, response id, the
request id and the number of retries; one ``grok_async.retry`` event per retry. A
stream's span ends when the stream ends, however it ends. No message contents are
recorded, and errors are recorded by type, not by text.
"""

from __future__ import annotations

from collections.abc import Mapping
from typing import TYPE_CHECKING, Any

from ._errors import ConfigurationError
from ._version import __version__

if TYPE_CHECKING:
    from ._events import Call, StreamOutcome

__all__ = ["Tracing"]

# The GenAI operation of each chat-like path; other paths get an HTTP-style span name.
_OPERATIONS: Mapping[str, str] = {
    "/chat/completions": "chat",
    "/responses": "chat",
}


# Paths whose further segments are ids: span names keep only the route, so that there is
# one span name per endpoint, not one per response or model id.
_ROUTES = (
    "/chat/deferred-completion",
    "/responses",
    "/models",
    "/language-models",
    "/image-generation-models",
)


def _route(path: str) -> str:
    for route in _ROUTES:
        if path.startswith(route + "/"):
            return route + "/{id}"
    return path


def _first(obj: object, *names: str) -> Any:
    for name in names:
        value = getattr(obj, name, None)
        if value is not None:
            return value
    return None


class Tracing:
    """Creates and ends the spans of one client family."""

    def __init__(self, tracer: Any, status: Any, status_code: Any, kind: Any) -> None:
        self._tracer = tracer
        self._status = status
        self._status_code = status_code
        self._kind = kind

    @classmethod
    def create(cls, provider: object | None) -> Tracing:
        """Tracing through ``provider`` (a ``TracerProvider``), or the global one."""
        try:
            from opentelemetry import trace
        except ImportError:
            raise ConfigurationError(
                "tracing= needs OpenTelemetry: pip install 'grok-async[otel]'"
            ) from None
        tracer = trace.get_tracer("grok_async", __version__, tracer_provider=provider)  # type: ignore[arg-type]
        return cls(tracer, trace.Status, trace.StatusCode, trace.SpanKind.CLIENT)

    def start(self, call: Call) -> Any:
        operation = _OPERATIONS.get(call.path)
        attributes: dict[str, Any] = {
            "gen_ai.provider.name": "x_ai",
            # The attribute older GenAI conventions (<= 1.36) used for the same thing.
            "gen_ai.system": "xai",
            "http.request.method": call.method,
            "url.path": call.path,
        }
        if operation is not None:
            attributes["gen_ai.operation.name"] = operation
        if call.model is not None:
            attributes["gen_ai.request.model"] = call.model
        if operation is not None and call.model is not None:
            name = f"{operation} {call.model}"
        else:
            name = f"{call.method} {_route(call.path)}"
        return self._tracer.start_span(name, kind=self._kind, attributes=attributes)

    def retry(self, call: Call, error: BaseException, wait: float) -> None:
        attributes: dict[str, Any] = {
            "grok_async.attempt": call.attempts,
            "grok_async.retry.wait": wait,
            "error.type": type(error).__name__,
        }
        status = getattr(error, "status_code", None)
        if isinstance(status, int):
            attributes["http.response.status_code"] = status
        call.span.add_event("grok_async.retry", attributes)

    def end(
        self,
        call: Call,
        *,
        error: BaseException | None = None,
        result: object = None,
        outcome: StreamOutcome | None = None,
        request_id: str | None = None,
    ) -> None:
        span = call.span
        call.span = None  # ended once, whichever path gets here first
        span.set_attribute("grok_async.retries", max(0, call.attempts - 1))
        if request_id:
            span.set_attribute("grok_async.request_id", request_id)
        if outcome is not None:
            span.set_attribute("grok_async.stream.outcome", outcome)
        if result is not None:
            _set_result(span, result)
        if error is not None:
            status = getattr(error, "status_code", None)
            if isinstance(status, int):
                span.set_attribute("http.response.status_code", status)
            request_id = getattr(error, "request_id", None)
            if request_id:
                span.set_attribute("grok_async.request_id", request_id)
            span.set_attribute("error.type", type(error).__name__)
            # The class, not the text: a server message may quote the request.
            span.set_status(self._status(self._status_code.ERROR, type(error).__name__))
        span.end()


def _set_result(span: Any, result: object) -> None:
    """Response attributes from a completion, a Responses-API response, or a raw response."""
    request_id = getattr(result, "request_id", None)
    if isinstance(request_id, str) and request_id:
        span.set_attribute("grok_async.request_id", request_id)
    status = getattr(result, "status", None)
    if isinstance(status, int):
        span.set_attribute("http.response.status_code", status)
    response_id = getattr(result, "id", None)
    if isinstance(response_id, str) and response_id:
        span.set_attribute("gen_ai.response.id", response_id)
    model = getattr(result, "model", None)
    if isinstance(model, str) and model:
        span.set_attribute("gen_ai.response.model", model)
    usage = getattr(result, "usage", None)
    if usage is not None:
        tokens_in = _first(usage, "prompt_tokens", "input_tokens")
        tokens_out = _first(usage, "completion_tokens", "output_tokens")
        if isinstance(tokens_in, int):
            span.set_attribute("gen_ai.usage.input_tokens", tokens_in)
        if isinstance(tokens_out, int):
            span.set_attribute("gen_ai.usage.output_tokens", tokens_out)
    choices = getattr(result, "choices", None)
    if isinstance(choices, list):
        reasons = [c.finish_reason for c in choices if getattr(c, "finish_reason", None)]
        if reasons:
            span.set_attribute("gen_ai.response.finish_reasons", reasons)
    elif isinstance(status, str) and status:
        span.set_attribute("gen_ai.response.finish_reasons", [status])
