"""What an emulated answer used and cost: the chat ``usage`` object, and its Responses API form.

The cost is what xAI's prices say: the catalogue's prices are USD ticks per token (1 tick
= 1e-10 USD, so 30000 is $3 per million tokens), and the answer costs its prompt tokens at
the prompt price plus its completion and reasoning tokens at the completion price (the
emulator caches nothing, so no token is billed at the cached price). It goes out as
``usage.cost_in_usd_ticks``, as xAI sends it in every chat answer since 2026-01 (SPEC.md §9).
"""

from __future__ import annotations

from collections.abc import Mapping
from typing import Any

from ._catalog import ModelInfo

__all__ = ["chat_usage", "cost_in_usd_ticks", "responses_usage"]


def cost_in_usd_ticks(model: ModelInfo, prompt: int, completion: int, reasoning: int) -> int:
    """What an answer with these token counts costs on ``model``, in USD ticks."""
    return prompt * model.prompt_price + (completion + reasoning) * model.completion_price


def chat_usage(model: ModelInfo, prompt: int, completion: int, reasoning: int) -> dict[str, Any]:
    """The ``usage`` of a chat completion with these token counts, every field xAI sends."""
    return {
        "prompt_tokens": prompt,
        "completion_tokens": completion,
        # xAI counts reasoning tokens apart from completion tokens (SPEC.md §2).
        "total_tokens": prompt + completion + reasoning,
        "prompt_tokens_details": {
            "text_tokens": prompt,
            "audio_tokens": 0,
            "image_tokens": 0,
            "cached_tokens": 0,
        },
        "completion_tokens_details": {
            "reasoning_tokens": reasoning,
            "audio_tokens": 0,
            "accepted_prediction_tokens": 0,
            "rejected_prediction_tokens": 0,
        },
        "num_sources_used": 0,
        "cost_in_usd_ticks": cost_in_usd_ticks(model, prompt, completion, reasoning),
    }


def responses_usage(usage: Mapping[str, Any]) -> dict[str, Any]:
    """A chat ``usage`` in the Responses shape (a scripted usage without chat keys is sent
    as it is)."""
    if "prompt_tokens" not in usage:
        return dict(usage)
    prompt = usage.get("prompt_tokens_details") or {}
    completion = usage.get("completion_tokens_details") or {}
    converted = {
        "input_tokens": usage["prompt_tokens"],
        "input_tokens_details": {"cached_tokens": prompt.get("cached_tokens", 0)},
        "output_tokens": usage.get("completion_tokens", 0),
        # xAI counts reasoning tokens apart from output tokens, as on chat (SPEC.md §2).
        "output_tokens_details": {"reasoning_tokens": completion.get("reasoning_tokens", 0)},
        "total_tokens": usage.get("total_tokens", 0),
        "num_sources_used": usage.get("num_sources_used", 0),
        "num_server_side_tools_used": 0,
    }
    if "cost_in_usd_ticks" in usage:
        converted["cost_in_usd_ticks"] = usage["cost_in_usd_ticks"]
    return converted
