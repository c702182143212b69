"""What a chat model can do, and what its reply holds.

Reads a model's traits (tool calling, extended thinking that refuses a forced tool call,
Ollama's options) and a reply's parts: the tool-call arguments or the text without
``<think>`` blocks, and the finish reason in one vocabulary ("length" for every
provider's cut-by-max-tokens).
"""

from __future__ import annotations

import json
import re
from typing import Any

from langchain_core.language_models import BaseChatModel
from langchain_core.messages import AIMessage

#: ChatOllama's sampling options, read from the model to build the per-call ``options``
#: (langchain-ollama replaces all of them when ``options`` is passed, and ignores
#: ``max_tokens``).
OLLAMA_OPTIONS = (
    "mirostat",
    "mirostat_eta",
    "mirostat_tau",
    "num_gpu",
    "num_thread",
    "repeat_last_n",
    "repeat_penalty",
    "temperature",
    "seed",
    "tfs_z",
    "top_k",
    "top_p",
)
_THINK_BLOCK = re.compile(r"<think>.*?(</think>|\Z)", re.DOTALL | re.IGNORECASE)

LENGTH_REASONS = {"length", "max_tokens", "MAX_TOKENS", "model_length"}


def supports_tools(model: Any) -> bool:
    method = getattr(type(model), "bind_tools", None)
    return method is not None and method is not BaseChatModel.bind_tools


def thinks_before_tools(model: Any) -> bool:
    """Extended thinking (Anthropic) refuses a forced tool choice."""
    thinking = getattr(model, "thinking", None)
    return isinstance(thinking, dict) and thinking.get("type") == "enabled"


def is_ollama(model: Any) -> bool:
    return getattr(model, "_llm_type", None) == "chat-ollama"


def is_openai_compatible_server(model: Any) -> bool:
    """A ``ChatOpenAI`` pointed at another server (``base_url``): llama.cpp's server, vLLM,
    LM Studio... ``ChatOpenAI`` sends ``max_tokens`` as ``max_completion_tokens``, which
    some of them ignore (llama-cpp-python's server does), so they get ``max_tokens`` too."""
    base = getattr(model, "openai_api_base", None)
    return bool(base) and "api.openai.com" not in str(base) and hasattr(model, "extra_body")


def strip_thinking(text: str) -> str:
    """Drop ``<think>...</think>`` blocks (and an unfinished one) that thinking models put
    in the reply text before the answer."""
    return _THINK_BLOCK.sub("", text)


def reply_payload(message: AIMessage) -> tuple[Any, str]:
    """What to parse (tool-call args, or the text) and its text for token counting."""
    tool_calls = getattr(message, "tool_calls", None) or []
    if tool_calls:
        args = tool_calls[0].get("args", {})
        return args, json.dumps(args)
    invalid = getattr(message, "invalid_tool_calls", None) or []
    if invalid and invalid[0].get("args"):
        return invalid[0]["args"], invalid[0]["args"]
    content = message.content
    if isinstance(content, list):  # content blocks: text only (thinking blocks are skipped)
        content = "".join(b.get("text", "") if isinstance(b, dict) else str(b) for b in content)
    content = strip_thinking(content)
    return content, content


def finish_reason(message: AIMessage) -> str | None:
    meta = getattr(message, "response_metadata", None) or {}
    reason = meta.get("finish_reason") or meta.get("stop_reason") or meta.get("done_reason")
    if reason in LENGTH_REASONS:
        return "length"
    return reason
