"""The request parameters each generating endpoint takes, besides its required ones: what
``create()`` accepts as keywords, and what a batch input line's body may hold.

A leaf module, so the batch runner can check a body without importing the resources.
"""

from __future__ import annotations

__all__ = ["CHAT_PARAMETERS", "RESPONSES_PARAMETERS"]

#: ``chat.completions.create()``'s parameters besides model, messages and stream (SPEC §1).
CHAT_PARAMETERS = frozenset(
    {
        "stream_options",
        "temperature",
        "top_p",
        "n",
        "stop",
        "max_tokens",
        "max_completion_tokens",
        "frequency_penalty",
        "presence_penalty",
        "logit_bias",
        "logprobs",
        "top_logprobs",
        "seed",
        "response_format",
        "tools",
        "tool_choice",
        "parallel_tool_calls",
        "reasoning_effort",
        "search_parameters",
        "web_search_options",
        "user",
    }
)


#: ``responses.create()``'s parameters besides model, input and stream (SPEC §5).
RESPONSES_PARAMETERS = frozenset(
    {
        "instructions",
        "previous_response_id",
        "tools",
        "tool_choice",
        "parallel_tool_calls",
        "reasoning",
        "include",
        "store",
        "max_output_tokens",
        "max_turns",
        "temperature",
        "top_p",
        "logprobs",
        "top_logprobs",
        "text",
        "search_parameters",
        "prompt_cache_key",
        "metadata",
        "user",
    }
)
