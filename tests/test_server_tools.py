"""Server-side tools of the Responses API (issue #18, point 5): typed constructors that go on
the wire as the API's tool objects, their calls typed in the output, their citations typed as
annotations, and their usage reachable as a typed field."""

from __future__ import annotations

import datetime
from typing import Any

import orjson
import pytest

from grok_async import (
    AsyncGrok,
    BadRequestError,
    CodeExecutionTool,
    CodeInterpreterOutput,
    FileSearchResult,
    FileSearchTool,
    MCPTool,
    NotFoundError,
    ResponseAnnotation,
    ResponseCodeInterpreterCall,
    ResponseCustomToolCall,
    ResponseFileSearchCall,
    ResponseMcpCall,
    ResponseOutputMessage,
    ResponseOutputText,
    ResponseUsage,
    ResponseWebSearchCall,
    ServerSideToolUsage,
    WebSearchAction,
    WebSearchTool,
    XSearchTool,
)
from grok_async._serialization import decode_model, encode_json
from grok_async.testing import FakeGrok

from .conftest import FAKE_KEY

QUESTION = "What do lighthouses do?"


def client_for(fake: FakeGrok, **options: Any) -> AsyncGrok:
    return AsyncGrok(FAKE_KEY, base_url=fake.base_url, **options)


def wire(tool: object) -> Any:
    return orjson.loads(encode_json(tool))


# -- the constructors ----------------------------------------------------------------------------


@pytest.mark.parametrize(
    ("tool", "sent"),
    [
        pytest.param(WebSearchTool(), {"type": "web_search"}, id="web-search"),
        pytest.param(
            WebSearchTool(
                allowed_domains=("python.org", "x.ai"),
                enable_image_search=True,
                enable_image_understanding=False,
            ),
            {
                "type": "web_search",
                "allowed_domains": ["python.org", "x.ai"],
                "enable_image_search": True,
                "enable_image_understanding": False,
            },
            id="web-search-options",
        ),
        pytest.param(
            XSearchTool(
                excluded_x_handles=["spam"],
                from_date=datetime.date(2025, 1, 1),
                to_date="2025-06-30",
                enable_video_understanding=True,
            ),
            {
                "type": "x_search",
                "excluded_x_handles": ["spam"],
                "from_date": "2025-01-01",
                "to_date": "2025-06-30",
                "enable_video_understanding": True,
            },
            id="x-search",
        ),
        pytest.param(CodeExecutionTool(), {"type": "code_interpreter"}, id="code-execution"),
        pytest.param(
            FileSearchTool(collection_ids=["c-1", "c-2"], max_num_results=3),
            {"type": "file_search", "vector_store_ids": ["c-1", "c-2"], "max_num_results": 3},
            id="file-search",
        ),
        pytest.param(
            MCPTool(
                "https://mcp.example.com/sse",
                "wiki",
                server_description="A wiki.",
                allowed_tools=["ask"],
                authorization="token-1",
                headers={"X-Team": "a"},
                require_approval="never",
            ),
            {
                "type": "mcp",
                "server_url": "https://mcp.example.com/sse",
                "server_label": "wiki",
                "server_description": "A wiki.",
                "allowed_tools": ["ask"],
                "authorization": "token-1",
                "headers": {"X-Team": "a"},
                "require_approval": "never",
            },
            id="mcp",
        ),
    ],
)
def test_each_tool_goes_on_the_wire_as_the_apis_object(tool: object, sent: Any) -> None:
    """The type tag first, the options given, nothing left at None."""
    assert wire(tool) == sent
    assert next(iter(wire(tool))) == "type"


@pytest.mark.parametrize(
    ("make", "error", "match"),
    [
        pytest.param(
            lambda: WebSearchTool(allowed_domains=["a"], excluded_domains=["b"]),
            ValueError,
            "cannot be set together",
            id="allow-and-exclude",
        ),
        pytest.param(
            lambda: WebSearchTool(allowed_domains=[f"d{i}.com" for i in range(6)]),
            ValueError,
            "allowed_domains takes at most 5",
            id="too-many-domains",
        ),
        pytest.param(
            lambda: WebSearchTool(allowed_domains="x.ai"),
            TypeError,
            "allowed_domains takes a list of strings, not str",
            id="domain-string",
        ),
        pytest.param(
            lambda: XSearchTool(allowed_x_handles=["a"] * 11),
            ValueError,
            "at most 10",
            id="too-many-handles",
        ),
        pytest.param(
            lambda: XSearchTool(from_date="01/02/2025"),
            ValueError,
            "from_date must be a date or 'YYYY-MM-DD'",
            id="bad-date",
        ),
        pytest.param(
            lambda: XSearchTool(from_date="2025-02-01", to_date="2025-01-01"),
            ValueError,
            "is after to_date",
            id="dates-reversed",
        ),
        pytest.param(
            lambda: FileSearchTool(collection_ids=[]), ValueError, "at least one", id="no-ids"
        ),
        pytest.param(
            lambda: FileSearchTool(collection_ids="c-1"), TypeError, "not str", id="one-id-string"
        ),
        pytest.param(
            lambda: FileSearchTool(collection_ids=["c"], max_num_results=0),
            ValueError,
            "max_num_results must be a positive int",
            id="zero-results",
        ),
        pytest.param(
            lambda: MCPTool("ftp://x", "wiki"), ValueError, "http\\(s\\) URL", id="mcp-url"
        ),
        pytest.param(lambda: MCPTool("https://x", ""), ValueError, "server_label", id="mcp-label"),
        pytest.param(
            lambda: MCPTool("https://x", "w", headers={"a": 1}),  # type: ignore[dict-item]
            TypeError,
            "headers",
            id="mcp-headers",
        ),
    ],
)
def test_what_the_api_would_refuse_is_refused_here(
    make: Any, error: type[Exception], match: str
) -> None:
    with pytest.raises(error, match=match):
        make()


def test_an_mcp_tools_secrets_are_not_shown() -> None:
    """``repr`` (and so a log line or a traceback) never shows the token or the headers."""
    tool = MCPTool("https://mcp.example.com", "wiki", authorization="s3cret", headers={"K": "v"})
    assert "s3cret" not in repr(tool)
    assert "'v'" not in repr(tool)
    assert wire(tool)["authorization"] == "s3cret"


# -- against FakeGrok -----------------------------------------------------------------------------


async def test_the_calls_citations_and_usage_come_back_typed(fake_grok: FakeGrok) -> None:
    """Every server-side tool's call is a typed output item ahead of the message; the
    search sources are typed ``url_citation`` annotations; ``usage`` counts each tool."""
    fake_grok.add_document("lights", "Lighthouses guide ships at night.\n\nCats sleep.")
    tools = [
        WebSearchTool(allowed_domains=["lighthouses.example"]),
        XSearchTool(allowed_x_handles=["keeper"]),
        CodeExecutionTool(),
        FileSearchTool(collection_ids=["lights"], max_num_results=1),
        MCPTool("https://mcp.example.com/sse", "wiki", allowed_tools=["ask"]),
    ]
    async with client_for(fake_grok) as client:
        response = await client.responses.create(model="grok-4", input=QUESTION, tools=tools)
    web, x, code, files, mcp, message = response.output
    assert isinstance(web, ResponseWebSearchCall)
    assert isinstance(web.action, WebSearchAction)
    assert (web.action.type, web.action.query) == ("search", QUESTION)
    assert [s.url for s in web.action.sources] == [
        "https://lighthouses.example/what-do-lighthouses-do"
    ]
    assert isinstance(x, ResponseCustomToolCall) and x.name == "x_keyword_search"
    assert orjson.loads(x.input or "")["query"] == QUESTION
    assert isinstance(code, ResponseCodeInterpreterCall) and code.code
    assert code.outputs == [CodeInterpreterOutput(type="logs", logs="4\n")]
    assert isinstance(files, ResponseFileSearchCall) and files.queries == [QUESTION]
    (found,) = files.results
    assert isinstance(found, FileSearchResult)
    assert found.text == "Lighthouses guide ships at night." and found.score > 0
    assert isinstance(mcp, ResponseMcpCall)
    assert (mcp.name, mcp.server_label, mcp.output) == ("ask", "wiki", f"echo: {QUESTION}")
    assert isinstance(message, ResponseOutputMessage)
    text = message.content[0]
    assert isinstance(text, ResponseOutputText)
    citations = text.annotations
    assert all(isinstance(c, ResponseAnnotation) for c in citations)
    assert [c.type for c in citations] == ["url_citation", "url_citation"]
    assert citations[0].url == web.action.sources[0].url
    assert citations[1].url is not None and citations[1].url.startswith("https://x.com/keeper/")
    assert text.text[citations[0].start_index : citations[0].end_index] == text.text
    usage = response.usage
    assert usage is not None
    assert usage.num_server_side_tools_used == 5
    assert usage.num_sources_used == 2
    assert usage.server_side_tool_usage_details == ServerSideToolUsage(
        web_search_calls=1, x_search_calls=1, code_interpreter_calls=1, file_search_calls=1,
        mcp_calls=1,
    )  # fmt: skip


async def test_a_streamed_response_carries_them_too(fake_grok: FakeGrok) -> None:
    """The stream's items and final response have the same typed calls and usage."""
    tools = [WebSearchTool(), CodeExecutionTool()]
    async with client_for(fake_grok) as client:
        plain = await client.responses.create(model="grok-4", input=QUESTION, tools=tools)
        async with client.responses.stream(model="grok-4", input=QUESTION, tools=tools) as stream:
            final = await stream.get_final_response()
    assert [type(item) for item in final.output] == [type(item) for item in plain.output]
    assert final.usage is not None and plain.usage is not None
    assert final.usage.server_side_tool_usage_details == plain.usage.server_side_tool_usage_details


async def test_the_servers_refusals_raise(fake_grok: FakeGrok) -> None:
    """An unknown collection is a 404; a tool the constructors would refuse, sent as a dict,
    gets the server's 400 with its text."""
    too_many = {"type": "web_search", "allowed_domains": [f"d{i}.com" for i in range(6)]}
    async with client_for(fake_grok, max_retries=0) as client:
        with pytest.raises(NotFoundError, match="nope"):
            await client.responses.create(
                model="grok-4", input="Hi", tools=[FileSearchTool(collection_ids=["nope"])]
            )
        with pytest.raises(BadRequestError, match="A maximum of 5 domains"):
            await client.responses.create(model="grok-4", input="Hi", tools=[too_many])


async def test_server_side_calls_go_back_as_input_unchanged(fake_grok: FakeGrok) -> None:
    """Sent back as input, the typed calls are the items the server made."""
    async with client_for(fake_grok) as client:
        first = await client.responses.create(
            model="grok-4", input=QUESTION, tools=[WebSearchTool(), CodeExecutionTool()]
        )
        received = [item.raw for item in first.output]
        await client.responses.create(
            model="grok-4", input=[*first.output, {"role": "user", "content": "More?"}]
        )
    assert fake_grok.last_request.json["input"][:-1] == received


def test_usage_details_decode_liberally() -> None:
    """Counters the library does not know stay in ``raw``; missing ones read as 0."""
    usage = decode_model(
        {
            "input_tokens": 1,
            "output_tokens": 1,
            "total_tokens": 2,
            "server_side_tool_usage_details": {"web_search_calls": 2, "view_image_calls": 1},
        },
        ResponseUsage,
    )
    details = usage.server_side_tool_usage_details
    assert isinstance(details, ServerSideToolUsage)
    assert (details.web_search_calls, details.mcp_calls) == (2, 0)
    assert details.raw["view_image_calls"] == 1
