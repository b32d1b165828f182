"""The emulator's server-side tools of the Responses API: what a response carries when a
request gives ``web_search``, ``x_search``, ``code_interpreter``, ``file_search`` or
``mcp`` tools.

Each server-side tool in ``tools`` runs once, on the request's last user text, before the
model answers, and shows as an output item ahead of the message: a ``web_search_call``
(its sources on the first allowed domain, else ``example.com``), a ``custom_tool_call``
named ``x_keyword_search`` (for X search; xAI's exact item for it is not documented), a
``code_interpreter_call`` that counts the words, a ``file_search_call`` whose results are
the emulator's own documents search over the named collections (unknown ones: 404), and
an ``mcp_call`` of the first allowed tool (else ``echo``) that echoes the text. The web
and X sources are cited as ``url_citation`` annotations of the answer's text;
``usage.num_server_side_tools_used``, ``num_sources_used`` and
``server_side_tool_usage_details`` count it all.
"""

from __future__ import annotations

import re
from collections.abc import Mapping
from typing import Any

import orjson

from ._catalog import hash_text
from ._documents import DocumentStore
from ._replies import message_text
from ._validation import InvalidRequest, type_error

__all__ = ["SERVER_TOOL_TYPES", "ServerTools"]

#: The server-side tool types the emulator runs (others are left to the model's answer).
SERVER_TOOL_TYPES = frozenset({"web_search", "x_search", "code_interpreter", "file_search", "mcp"})
_MAX_DOMAINS = 5
# The usage counter of each tool type (the OpenAPI document's ServerSideToolUsageDetails).
_COUNTERS = {
    "web_search": "web_search_calls",
    "x_search": "x_search_calls",
    "code_interpreter": "code_interpreter_calls",
    "file_search": "file_search_calls",
    "mcp": "mcp_calls",
}


def _last_user_text(body: Mapping[str, Any]) -> str:
    value = body.get("input")
    if isinstance(value, str):
        return value
    if isinstance(value, list):
        for item in reversed(value):
            if isinstance(item, Mapping) and item.get("role") == "user":
                return message_text(item)
    return ""


def _slug(text: str) -> str:
    return "-".join(re.findall(r"[a-z0-9]+", text.lower())[:6]) or "search"


def _check(tool: Mapping[str, Any], position: int) -> None:
    """Refuse a server-side tool the way xAI does (400 for values, 422 for shapes)."""
    kind = tool["type"]
    where = f"tools[{position}]"
    if kind == "web_search":
        for key in ("allowed_domains", "excluded_domains"):
            domains = tool.get(key)
            if domains is not None and not isinstance(domains, list):
                raise type_error(f"{where}.{key}", "a sequence of strings")
            if isinstance(domains, list) and len(domains) > _MAX_DOMAINS:
                raise InvalidRequest(
                    400,
                    f"A maximum of {_MAX_DOMAINS} domains can be allowed, "
                    f"but {len(domains)} were provided.",
                )
        if tool.get("allowed_domains") and tool.get("excluded_domains"):
            raise InvalidRequest(
                400, "allowed_domains and excluded_domains cannot be set together."
            )
    elif kind == "file_search":
        ids = tool.get("vector_store_ids")
        if not isinstance(ids, list) or not all(isinstance(i, str) for i in ids):
            raise type_error(f"{where}.vector_store_ids", "a sequence of strings")
    elif kind == "mcp":
        for key in ("server_url", "server_label"):
            if not isinstance(tool.get(key), str):
                raise InvalidRequest(
                    422,
                    "Failed to deserialize the JSON body into the target type: "
                    f"{where}: missing field `{key}`",
                )


class ServerTools:
    """Runs the server-side tools of Responses requests against the emulator's state."""

    def __init__(self, documents: DocumentStore) -> None:
        self._documents = documents

    def plan(self, body: Mapping[str, Any]) -> list[Mapping[str, Any]]:
        """The server-side tools of ``body``, checked; ``InvalidRequest`` if refused."""
        tools = body.get("tools")
        if not isinstance(tools, list):
            return []
        planned = []
        for position, tool in enumerate(tools):
            if isinstance(tool, Mapping) and tool.get("type") in SERVER_TOOL_TYPES:
                _check(tool, position)
                planned.append(tool)
        for tool in planned:
            if tool["type"] == "file_search":
                # An unknown collection is the request's 404, before anything runs.
                self._documents.check_collections(tool["vector_store_ids"])
        return planned

    def apply(
        self, planned: list[Mapping[str, Any]], body: Mapping[str, Any], payload: dict[str, Any]
    ) -> None:
        """Put the calls of ``planned`` in ``payload`` (a response), with their citations
        on its text and their counts in its usage."""
        if not planned:
            return
        query = _last_user_text(body) or "the question"
        calls: list[dict[str, Any]] = []
        sources: list[str] = []
        counts = dict.fromkeys(_COUNTERS.values(), 0)
        for index, tool in enumerate(planned):
            call_id = f"{payload['id']}_{index}"
            item = getattr(self, "_" + tool["type"])(tool, query, call_id, sources)
            calls.append({"id": f"{tool['type']}_{call_id}", "status": "completed", **item})
            counts[_COUNTERS[tool["type"]]] += 1
        payload["output"] = [*calls, *payload["output"]]
        self._cite(payload["output"], sources)
        usage = payload.get("usage")
        if isinstance(usage, dict):
            usage["num_server_side_tools_used"] = len(calls)
            usage["num_sources_used"] = usage.get("num_sources_used", 0) + len(sources)
            usage["server_side_tool_usage_details"] = {**counts, "document_search_calls": 0}

    # -- each tool ---------------------------------------------------------------------------

    @staticmethod
    def _web_search(
        tool: Mapping[str, Any], query: str, _call_id: str, sources: list[str]
    ) -> dict[str, Any]:
        domains = tool.get("allowed_domains") or ["www.example.com"]
        found = [f"https://{domain}/{_slug(query)}" for domain in domains[:2]]
        sources.extend(found)
        action = {
            "type": "search",
            "query": query,
            "sources": [{"type": "url", "url": url} for url in found],
        }
        return {"type": "web_search_call", "action": action}

    @staticmethod
    def _x_search(
        tool: Mapping[str, Any], query: str, call_id: str, sources: list[str]
    ) -> dict[str, Any]:
        handles = tool.get("allowed_x_handles") or ["xai"]
        sources.append(f"https://x.com/{handles[0]}/status/{hash_text(query) % 10**18}")
        return {
            "type": "custom_tool_call",
            "call_id": f"call_{call_id}",
            "name": "x_keyword_search",
            "input": orjson.dumps({"query": query, "limit": 10}).decode(),
        }

    @staticmethod
    def _code_interpreter(
        _tool: Mapping[str, Any], query: str, _call_id: str, _sources: list[str]
    ) -> dict[str, Any]:
        code = f"text = {query!r}\nprint(len(text.split()))"
        logs = f"{len(query.split())}\n"
        return {
            "type": "code_interpreter_call",
            "code": code,
            "outputs": [{"type": "logs", "logs": logs}],
        }

    def _file_search(
        self, tool: Mapping[str, Any], query: str, _call_id: str, _sources: list[str]
    ) -> dict[str, Any]:
        request = {"query": query, "source": {"collection_ids": tool["vector_store_ids"]}}
        if isinstance(tool.get("max_num_results"), int):
            request["limit"] = tool["max_num_results"]
        matches = self._documents.search_body(request)
        results = [
            {
                "file_id": match["file_id"],
                "filename": f"{match['file_id']}.txt",
                "text": match["chunk_content"],
                "score": match["score"],
            }
            for match in matches
        ]
        return {"type": "file_search_call", "queries": [query], "results": results}

    @staticmethod
    def _mcp(
        tool: Mapping[str, Any], query: str, _call_id: str, _sources: list[str]
    ) -> dict[str, Any]:
        allowed = tool.get("allowed_tools")
        name = allowed[0] if isinstance(allowed, list) and allowed else "echo"
        return {
            "type": "mcp_call",
            "name": name,
            "server_label": tool["server_label"],
            "arguments": orjson.dumps({"text": query}).decode(),
            "output": f"echo: {query}",
        }

    @staticmethod
    def _cite(output: list[dict[str, Any]], sources: list[str]) -> None:
        """Cite ``sources`` on the first text of the answer (each backs the whole text)."""
        for item in output:
            if item.get("type") != "message":
                continue
            for part in item.get("content", []):
                if part.get("type") == "output_text":
                    part["annotations"] = [
                        {
                            "type": "url_citation",
                            "url": url,
                            "title": f"Source {number}",
                            "start_index": 0,
                            "end_index": len(part["text"]),
                        }
                        for number, url in enumerate(sources, 1)
                    ]
                    return
