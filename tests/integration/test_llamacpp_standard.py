"""langchain-tests' standard chat-model integration suite on reelcal's llama.cpp model,
with the real bundled SmolLM2 GGUF (slow: a few hundred generated tokens on 2 cores).

The suite's own properties skip what a local GGUF without tool calling, structured
output or multimodal inputs cannot do (``has_tool_calling``, ``has_structured_output``,
``supports_*_inputs`` are all False for this model); usage metadata is checked, streamed
too.
"""

from __future__ import annotations

import pytest

pytest.importorskip("llama_cpp")

from langchain_tests.integration_tests import ChatModelIntegrationTests

from pipeline.config import Settings
from pipeline.models.llamacpp import LlamaCppChatModel
from pipeline.models.local import bundled_gguf_path, local_threads

pytestmark = [pytest.mark.integration, pytest.mark.slow]


class TestLlamaCppChatModelIntegration(ChatModelIntegrationTests):
    @property
    def chat_model_class(self) -> type[LlamaCppChatModel]:
        return LlamaCppChatModel

    @property
    def chat_model_params(self) -> dict:
        path = bundled_gguf_path()
        decode_threads, prompt_threads = local_threads(path, Settings())
        return {
            "model_path": str(path),
            "n_ctx": 2048,
            "n_threads": decode_threads,
            "n_threads_batch": prompt_threads,
            # short replies keep the suite to minutes; two haikus fit
            "max_tokens": 64,
            "temperature": 0.0,
        }

    @property
    def has_tool_calling(self) -> bool:
        return False

    @property
    def has_structured_output(self) -> bool:
        return False
