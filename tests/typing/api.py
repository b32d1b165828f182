"""Never executed: checked by ``mypy --strict`` (nox -s typecheck) to pin the public types."""

from __future__ import annotations

from typing_extensions import assert_type

from grok_async import (
    APIKeyInfo,
    AsyncGrok,
    AsyncStream,
    Batch,
    BatchResult,
    BatchRunSummary,
    ChatCompletion,
    ChatCompletionChunk,
    ChatCompletionMessage,
    CodeExecutionTool,
    CreateEmbeddingResponse,
    DeferredCompletion,
    DocumentSearchMatch,
    DocumentSearchResponse,
    EmbeddingModel,
    File,
    FileDeleted,
    FileSearchTool,
    ImageGenerationModel,
    ImagesResponse,
    LanguageModel,
    MCPTool,
    Model,
    Response,
    ResponseDeleted,
    ResponseFunctionToolCall,
    ResponseOutputItem,
    ResponseStream,
    ResponseStreamEvent,
    ResponseWebSearchCall,
    ServerSideToolUsage,
    Timeout,
    TokenizeResult,
    Transcription,
    Usage,
    VideoGenerationModel,
    VideoJob,
    VideoResult,
    WebSearchTool,
    XSearchTool,
)


async def typed_calls(client: AsyncGrok) -> None:
    reply = await client.chat.completions.create(model="grok-4", messages=[])
    assert_type(reply, ChatCompletion)
    assert_type(reply.choices[0].message, ChatCompletionMessage)
    assert_type(reply.usage, Usage | None)
    if reply.usage is not None:
        assert_type(reply.usage.cost_usd, float | None)

    stream = await client.chat.completions.create(model="grok-4", messages=[], stream=True)
    assert_type(stream, AsyncStream[ChatCompletionChunk])
    async for chunk in stream:
        assert_type(chunk, ChatCompletionChunk)

    async with client.chat.completions.stream(model="grok-4", messages=[]) as s:
        assert_type(await s.get_final_completion(), ChatCompletion)
        async for text in s.text():
            assert_type(text, str)

    copy = client.with_options(timeout=Timeout(read=5), max_retries=0)
    assert_type(copy, AsyncGrok)


async def typed_fan_out(client: AsyncGrok) -> None:
    strict = await client.chat.completions.create_many([{"model": "grok-4", "messages": []}])
    assert_type(strict, list[ChatCompletion])
    lenient = await client.chat.completions.create_many([], return_exceptions=True)
    assert_type(lenient, list[ChatCompletion | Exception])


async def typed_endpoints(client: AsyncGrok) -> None:
    assert_type(await client.models.list(), list[Model])
    assert_type(await client.models.retrieve("grok-4"), Model)
    assert_type(await client.language_models.list(), list[LanguageModel])
    assert_type(await client.language_models.retrieve("grok-4"), LanguageModel)
    assert_type(await client.image_generation_models.list(), list[ImageGenerationModel])
    assert_type((await client.language_models.retrieve("x")).pricing.prompt_text, float | None)
    assert_type(await client.tokenize(text="hi", model="grok-4"), TokenizeResult)
    assert_type((await client.tokenize(text="hi", model="grok-4")).ids, list[int])
    assert_type(await client.api_key_info(), APIKeyInfo)
    images = await client.images.generate(prompt="a cat")
    assert_type(images, ImagesResponse)
    if images.usage is not None:
        assert_type(images.usage.cost_usd, float | None)

    handle = await client.chat.completions.create(model="grok-4", messages=[], deferred=True)
    assert_type(handle, DeferredCompletion)
    assert_type(await handle.wait(timeout=60), ChatCompletion)
    assert_type(await client.chat.deferred.get(handle.request_id), ChatCompletion | None)
    plain = await client.chat.completions.create(model="grok-4", messages=[], deferred=False)
    assert_type(plain, ChatCompletion)


async def typed_responses(client: AsyncGrok, flag: bool) -> None:
    reply = await client.responses.create(model="grok-4", input="Hi")
    if reply.usage is not None:
        assert_type(reply.usage.cost_usd, float | None)
    assert_type(reply, Response)
    assert_type(reply.output_text, str)
    assert_type(reply.output, list[ResponseOutputItem])
    calls = [item for item in reply.output if isinstance(item, ResponseFunctionToolCall)]
    assert_type(calls[0].call_id, str)
    explicit = await client.responses.create(model="grok-4", input="Hi", stream=False)
    assert_type(explicit, Response)

    stream = await client.responses.create(model="grok-4", input="Hi", stream=True)
    assert_type(stream, ResponseStream)
    async for event in stream:
        assert_type(event, ResponseStreamEvent)
    assert_type(await stream.get_final_response(), Response)

    either = await client.responses.create(model="grok-4", input="Hi", stream=flag)
    assert_type(either, Response | ResponseStream)

    async with client.responses.stream(model="grok-4", input="Hi") as managed:
        assert_type(managed, ResponseStream)
        async for text in managed.text():
            assert_type(text, str)

    assert_type(await client.responses.retrieve(reply.id), Response)
    assert_type(await client.responses.delete(reply.id), ResponseDeleted)


async def typed_media(client: AsyncGrok) -> None:
    embedded = await client.embeddings.create(model="v1", input=["a", "b"])
    assert_type(embedded, CreateEmbeddingResponse)
    assert_type(embedded.data[0].embedding, list[float] | str)
    assert_type(embedded.vectors, list[list[float]])
    assert_type(await client.embedding_models.list(), list[EmbeddingModel])
    assert_type(await client.video_generation_models.retrieve("m"), VideoGenerationModel)
    found = await client.documents.search(query="q", collection_ids=["c"])
    assert_type(found, DocumentSearchResponse)
    assert_type(found.matches[0], DocumentSearchMatch)
    job = await client.videos.generate(prompt="a cat", duration=2)
    assert_type(job, VideoJob)
    result = await job.wait(on_progress=lambda r: print(r.progress))
    assert_type(result, VideoResult)
    if result.usage is not None:
        assert_type(result.usage.cost_usd, float | None)
    assert_type(await client.videos.retrieve(job.request_id), VideoResult)
    assert_type(await client.audio.speech.create(text="hi"), bytes)
    assert_type(await client.audio.speech.stream_to_file("a.mp3", text="hi"), int)
    assert_type(await client.audio.transcriptions.create(file=b"..."), Transcription)


async def typed_files_and_batches(client: AsyncGrok) -> None:
    uploaded = await client.files.create(file="in.jsonl", expires_after=3600)
    assert_type(uploaded, File)
    async for listed in client.files.list(limit=10):
        assert_type(listed, File)
    assert_type(await client.files.content(uploaded.id), bytes)
    assert_type(await client.files.delete(uploaded.id), FileDeleted)
    batch = await client.batches.create(name="n", input_file_id=uploaded.id)
    assert_type(batch, Batch)
    assert_type(await client.batches.add(batch.id, [{"custom_id": "a", "body": {}}]), int)
    assert_type(await client.batches.wait(batch.id, poll_interval=1.0), Batch)
    assert_type(batch.cost_usd, float | None)
    async for result in client.batches.results(batch.id):
        assert_type(result, BatchResult)
    async for each in client.batches.list():
        assert_type(each, Batch)
    summary = await client.batches.run_file("in.jsonl", "out.jsonl", concurrency=8)
    assert_type(summary, BatchRunSummary)
    assert_type(summary.cost_usd, float)


async def typed_server_side_tools(client: AsyncGrok) -> None:
    response = await client.responses.create(
        model="grok-4",
        input="hi",
        tools=[
            WebSearchTool(allowed_domains=["x.ai"]),
            XSearchTool(),
            CodeExecutionTool(),
            FileSearchTool(collection_ids=["c"]),
            MCPTool("https://mcp.example.com", "wiki"),
        ],
    )
    if response.usage is not None:
        assert_type(response.usage.server_side_tool_usage_details, ServerSideToolUsage | None)
    item = response.output[0]
    if isinstance(item, ResponseWebSearchCall) and item.action is not None:
        assert_type(item.action.query, str | None)
