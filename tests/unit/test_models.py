"""Model keys, limits and counters, without any network."""

from __future__ import annotations

import pytest
from langchain_core.language_models import GenericFakeChatModel

from pipeline.config import Settings
from pipeline.errors import (
    MissingAPIKeyError,
    MissingDependencyError,
    ModelLimitsError,
    ModelSetupError,
)
from pipeline.knowledge.embeddings import load_embeddings
from pipeline.models.chat import (
    load_chat_model,
    model_label,
    model_limits,
    split_key,
    token_counter_for,
)


@pytest.mark.parametrize(
    ("model", "window", "cap"),
    [("gpt-4-turbo", 128_000, 4096), ("gpt-3.5-turbo", 16_385, 4096), ("gpt-4o", 128_000, 16_384)],
)
def test_openai_limits_come_from_the_profile(monkeypatch, model, window, cap):
    monkeypatch.setenv("OPENAI_API_KEY", "sk-test")
    chat = load_chat_model(f"openai:{model}", Settings())
    limits = model_limits(chat, Settings())
    assert (limits.context_window, limits.max_output_tokens, limits.source) == (
        window,
        cap,
        "profile",
    )
    assert model_label(chat) == f"openai:{model}"


def test_settings_override_the_profile(monkeypatch):
    monkeypatch.setenv("OPENAI_API_KEY", "sk-test")
    settings = Settings(context_window=8000, max_output_tokens=1000)
    limits = model_limits(load_chat_model("openai:gpt-4o", settings), settings)
    assert (limits.context_window, limits.max_output_tokens) == (8000, 1000)


def test_unknown_limits_name_both_settings():
    fake = GenericFakeChatModel(messages=iter([]))
    with pytest.raises(ModelLimitsError) as err:
        model_limits(fake, Settings())
    assert "context_window" in str(err.value) and "max_output_tokens" in str(err.value)
    limits = model_limits(fake, Settings(context_window=4096, max_output_tokens=512))
    assert (limits.context_window, limits.max_output_tokens, limits.source) == (
        4096,
        512,
        "settings",
    )


def test_missing_api_key_names_the_variable():
    with pytest.raises(MissingAPIKeyError, match="OPENAI_API_KEY"):
        load_chat_model("openai:gpt-4o", Settings())


def test_openai_compatible_server_needs_no_key():
    chat = load_chat_model("openai:my-local", Settings(base_url="http://127.0.0.1:8000/v1"))
    assert chat.openai_api_base == "http://127.0.0.1:8000/v1"
    assert token_counter_for(chat).exact is False  # not OpenAI's tokenizer


def test_missing_provider_package_names_pip_command():
    with pytest.raises(MissingDependencyError, match="pip install langchain-anthropic"):
        load_chat_model("anthropic:claude-sonnet-4-5", Settings())


@pytest.mark.parametrize("key", ["gpt-4o", ":gpt-4o", "openai:", ""])
def test_malformed_key(key):
    with pytest.raises(ModelSetupError, match="provider:model"):
        split_key(key)


def test_unknown_provider_is_explained(monkeypatch):
    with pytest.raises(ModelSetupError, match="Cannot load model 'nosuch:thing'"):
        load_chat_model("nosuch:thing", Settings())


def test_missing_gguf_file(tmp_path):
    with pytest.raises(ModelSetupError, match="not found"):
        load_chat_model(f"llamacpp:{tmp_path / 'missing.gguf'}", Settings())


def test_counter_for_openai_models(monkeypatch):
    monkeypatch.setenv("OPENAI_API_KEY", "sk-test")
    assert token_counter_for(load_chat_model("openai:gpt-4-turbo")).name == "tiktoken:cl100k_base"
    assert token_counter_for(load_chat_model("openai:gpt-4o")).name == "tiktoken:o200k_base"


def test_counter_for_unknown_models_is_an_estimate():
    counter = token_counter_for(GenericFakeChatModel(messages=iter([])))
    assert not counter.exact


def test_embeddings_keys():
    assert len(load_embeddings("fake:16").embed_query("x")) == 16
    with pytest.raises(ModelSetupError, match="fake:<dimension>"):
        load_embeddings("fake:abc")
    with pytest.raises(ModelSetupError, match="local:all-MiniLM-L6-v2"):
        load_embeddings("local:other-model")
    with pytest.raises(ModelSetupError, match="Unknown embeddings provider"):
        load_embeddings("cohere:embed")
    with pytest.raises(MissingAPIKeyError, match="OPENAI_API_KEY"):
        load_embeddings("openai:text-embedding-3-small")


def test_plan_builds_hosted_models_without_touching_the_environment(monkeypatch):
    import os

    from pipeline.generation.planning import planning_model

    before = dict(os.environ)
    model = planning_model("openai:gpt-4o", Settings())
    assert dict(os.environ) == before and "OPENAI_API_KEY" not in os.environ
    assert model.profile["max_input_tokens"] == 128_000


def test_cpu_count_works_without_sched_getaffinity(monkeypatch):
    import os

    from pipeline.models.local import available_cpus

    monkeypatch.delattr(os, "sched_getaffinity", raising=False)
    monkeypatch.delattr(os, "process_cpu_count", raising=False)
    assert available_cpus() == (os.cpu_count() or 1)


def test_small_local_models_decode_on_one_thread_and_read_prompts_on_every_core(
    tmp_path, monkeypatch
):
    from pipeline.config import Settings
    from pipeline.models import local as models

    monkeypatch.setattr(models, "available_cpus", lambda: 4)
    small = tmp_path / "small.gguf"
    small.write_bytes(b"\0" * 1024)
    assert models.local_threads(small, Settings()) == (1, 4)
    assert models.local_threads(small, Settings(n_threads=3)) == (3, 3)
    monkeypatch.setattr(models, "SMALL_GGUF_BYTES", 512)
    assert models.local_threads(small, Settings()) == (4, 4)
