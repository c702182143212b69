"""Budgets for every model family: tool schemas counted, reasoning models given a learned
reserve, and a reply cut with nothing parsed never sent again unchanged.

The scripted tool model counts the tool schema toward its own window (as OpenAI does)
with tiktoken directly, and can spend hidden reasoning tokens inside max_tokens.
"""

from __future__ import annotations

import pytest
from langchain_core.messages import AIMessage
from langchain_core.outputs import ChatGeneration, ChatResult
from pydantic import Field
from scripted import (
    FIXED_RETRIEVER,
    SCRIPTED_SCRIPT_WORDS,
    ScriptedChatModel,
    ScriptedToolModel,
    count_prompt,
    openai_tool_completion,
    requested_days,
    row_dict,
    rows_for,
)

from pipeline.config import Settings
from pipeline.errors import TokenBudgetError
from pipeline.generation.chains import generate_calendar
from pipeline.generation.planning import plan_month

pytestmark = pytest.mark.usefixtures("no_backoff")

PROFILES = [
    pytest.param(16_385, 4096, False, id="gpt-3.5-turbo"),
    pytest.param(128_000, 16_384, False, id="gpt-4o"),
    pytest.param(200_000, 100_000, True, id="o4-mini"),
    pytest.param(16_385, 4096, True, id="reasoning-16k-4k"),
]
MONTHS = ["2027-02", "2028-02", "2028-04", "2028-03"]


def tool_model(window: int, cap: int, reasoning: bool, **kwargs) -> ScriptedToolModel:
    model = ScriptedToolModel(
        window=window, output_cap=cap, reasoning=(1500, 2500) if reasoning else None, **kwargs
    )
    model.profile = {
        "max_input_tokens": window,
        "max_output_tokens": cap,
        "reasoning_output": reasoning,
        "tool_calling": True,
    }
    return model


def run(model, tmp_path, month="2026-03", **overrides):
    base = {
        "output_dir": tmp_path,
        "rag_token_budget": 300,
        "speed": "economical",
        "script_words": SCRIPTED_SCRIPT_WORDS,
    }
    settings = Settings(**{**base, **overrides})
    return generate_calendar(
        month, ["AI agents"], "AI tools", model=model, settings=settings, retriever=FIXED_RETRIEVER
    )


def assert_never_resent_unchanged_after_a_cut(model: ScriptedToolModel) -> None:
    for index, finish in enumerate(model.finish_reasons):
        if finish == "length":
            assert model.requests[index] not in model.requests[index + 1 :]


@pytest.mark.parametrize("month", MONTHS)
@pytest.mark.parametrize(("window", "cap", "reasoning"), PROFILES)
def test_every_month_completes_within_the_limits_of_each_family(
    tmp_path, month, window, cap, reasoning
):
    model = tool_model(window, cap, reasoning, seed=len(month) + window)
    cal = run(model, tmp_path, month)
    assert cal.is_complete
    assert model.violations == []
    assert_never_resent_unchanged_after_a_cut(model)
    if reasoning:
        assert all(u.reasoning_tokens for u in cal.usage)


def test_a_reserve_too_small_for_the_reasoning_grows_instead_of_starving(tmp_path):
    # start with a 200-token reserve while the model reasons 3,000-3,500 tokens a call:
    # the first reply comes back empty ("length"); the reserve grows, the month completes
    model = tool_model(32_000, 16_384, True, seed=3)
    model.reasoning = (3000, 3500)
    cal = run(model, tmp_path, reasoning_reserve=200, tokens_per_day=100)
    assert cal.is_complete and model.violations == []
    assert "length" in model.finish_reasons
    assert_never_resent_unchanged_after_a_cut(model)
    empty = [u for u in cal.usage if u.finish_reason == "length" and not u.days_parsed]
    later = [u for u in cal.usage if u.round > max(e.round for e in empty)]
    assert later and min(u.max_tokens - u.reasoning_tokens for u in later) > 0


def test_a_window_too_small_for_the_reserve_plus_one_day_fails_before_any_call(tmp_path):
    model = tool_model(4096, 4096, True)
    with pytest.raises(TokenBudgetError, match="reasoning reserve") as err:
        run(model, tmp_path, reasoning_reserve=3000)
    assert model.prompts == []
    assert "4,096-token window" in str(err.value)


def test_tool_schema_tokens_are_counted_in_prompt_tokens(tmp_path):
    model = tool_model(16_385, 4096, False)
    cal = run(model, tmp_path, month="2026-02")
    assert cal.is_complete and model.violations == []
    ours = sorted(u.prompt_tokens for u in cal.usage)
    theirs = sorted(model.counted, key=lambda c: c[1])
    for counted, (messages_only, with_schema) in zip(ours, theirs):
        assert with_schema - messages_only > 200  # the schema is a few hundred tokens
        assert abs(counted - with_schema) <= 0.02 * with_schema  # and we count it


def test_plan_shows_the_reasoning_reserve_and_the_tool_schema(tmp_path):
    model = tool_model(16_385, 4096, True)
    [plan] = plan_month(
        "2026-03",
        ["AI agents"],
        "AI tools",
        models=[model],
        settings=Settings(
            output_dir=tmp_path, speed="economical", script_words=SCRIPTED_SCRIPT_WORDS
        ),
        retriever=FIXED_RETRIEVER,
    )
    assert plan.reasoning_reserve == 2500 and plan.schema_tokens > 100
    assert all(c.max_tokens == 2500 + len(c.days) * plan.tokens_per_day for c in plan.calls)


# --------------------------------------------------------------------- other families
class ScriptedOllama(ScriptedChatModel):
    """Stands in for ChatOllama: reads num_ctx / num_predict from ``options`` (ignores
    max_tokens), truncates the prompt silently to num_ctx (Ollama's default is 2,048
    when none is sent), and thinks aloud in ``<think>`` blocks before its rows."""

    temperature: float | None = 0.7
    options_seen: list[dict] = Field(default_factory=list)

    @property
    def _llm_type(self) -> str:
        return "chat-ollama"

    def _generate(self, messages, stop=None, run_manager=None, **kwargs):
        options = kwargs.pop("options", None) or {}
        assert "max_tokens" not in kwargs, "Ollama takes num_predict in options"
        self.options_seen.append(options)
        num_ctx = options.get("num_ctx", 2048)
        if count_prompt(messages) > num_ctx:
            raise AssertionError("the prompt would be truncated silently to num_ctx")
        result = super()._generate(
            messages, stop, run_manager, max_tokens=options.get("num_predict")
        )
        message = result.generations[0].message
        message.content = "<think>The user wants rows. Day 99 | no | no</think>\n" + message.content
        return result


def test_ollama_gets_num_ctx_and_num_predict_and_its_thinking_is_dropped(tmp_path):
    model = ScriptedOllama(behaviour=lambda days, i, mt: rows_for(days))
    cal = run(model, tmp_path, month="2026-02", context_window=8192, max_output_tokens=2048)
    assert cal.is_complete
    assert [o["num_predict"] for o in model.options_seen] == model.max_tokens_seen
    assert all(o["num_ctx"] == 8192 and o["temperature"] == 0.7 for o in model.options_seen)
    assert [u.max_tokens for u in cal.usage] and all(u.rows_rejected == 0 for u in cal.usage)


class ScriptedThinkingClaude(ScriptedToolModel):
    """Anthropic with extended thinking: a forced tool choice is refused; it answers with
    JSON in its text after a thinking block."""

    thinking: dict = Field(default_factory=lambda: {"type": "enabled", "budget_tokens": 1024})

    def _generate(self, messages, stop=None, run_manager=None, **kwargs):
        import json

        if kwargs.get("tool_choice") or kwargs.get("tools"):
            raise ValueError("Thinking may not be enabled when tool_choice forces tool use.")
        days = requested_days(messages[-1].content)
        self.prompts.append(messages[-1].content)
        text = json.dumps({"days": [row_dict(d) for d in days]})
        message = AIMessage(
            content=[
                {"type": "thinking", "thinking": "Let me plan."},
                {"type": "text", "text": text},
            ],
            response_metadata={"stop_reason": "end_turn"},
        )
        return ChatResult(generations=[ChatGeneration(message=message)])


def test_a_model_that_cannot_force_a_tool_call_writes_json_in_text(tmp_path):
    model = ScriptedThinkingClaude()
    model.profile = {"max_input_tokens": 200_000, "max_output_tokens": 64_000}
    cal = run(model, tmp_path, month="2026-02")
    assert cal.is_complete and len(model.prompts) >= 1
    assert "JSON" in model.prompts[0]  # asked for JSON in the text


@pytest.mark.parametrize(
    ("window", "cap", "reasoning"),
    [*PROFILES, pytest.param(4096, 1024, False, id="local-4k-1k")],
)
def test_calls_stay_within_one_of_the_lower_bound(tmp_path, window, cap, reasoning):
    # lower bound: calls hold whole days, as many as the output cap holds at the month's
    # mean output tokens a day (reasoning included) with the estimate's documented
    # headroom; the one extra call is the probe that learns tokens per day first
    import math

    from pipeline.generation.writing.budget import ESTIMATE_HEADROOM

    model = tool_model(window, cap, reasoning, seed=7)
    cal = run(model, tmp_path)
    assert cal.is_complete and model.violations == []
    # (the outline's calls, the default, come first: the bound is on the writing calls)
    writing = [u for u in cal.usage if u.role != "outline"]
    per_day = sum(u.output_tokens for u in writing) / len(cal.days) * ESTIMATE_HEADROOM
    bound = math.ceil(len(cal.days) / max(1, math.floor(cap / per_day)))
    assert len(writing) <= bound + 1, [len(u.days_requested) for u in writing]


def test_a_one_day_reply_that_cannot_fit_is_named_missing_with_the_numbers(tmp_path):
    from pipeline.errors import IncompleteCalendarError

    # Day 9's replies run past any max_tokens: grow, then split down to one day, then that
    # day is not asked for again; every other day is written
    def behaviour(days, index, max_tokens):
        return "\n".join(
            "Day 9 | " + "word " * 5000 if day == 9 else rows_for([day]) for day in days
        )

    model = ScriptedChatModel(behaviour=behaviour)
    with pytest.raises(IncompleteCalendarError) as err:
        run(
            model,
            tmp_path,
            month="2026-02",
            context_window=8192,
            max_output_tokens=1024,
            tokens_per_day=300,
        )
    assert err.value.reason == "no_room" and err.value.missing_days == [9]
    assert len(err.value.calendar.days) == 27
    assert "Day 9: its one-day replies were cut at max_tokens=1,024" in str(err.value)
    # before it is given up, the day is asked again (max_reasks: once), told why
    alone = [p for p in model.prompts if requested_days(p) == [9]]
    assert "the last reply ran past 1,024 tokens" in alone[-1]
    requests = list(zip(model.prompts, model.max_tokens_seen))
    assert len(requests) == len(set(requests))  # never the same request twice


def test_structured_output_on_refuses_a_model_without_tools_or_grammar(tmp_path):
    from pipeline.errors import ConfigError

    model = ScriptedChatModel(behaviour=lambda days, i, mt: rows_for(days))
    with pytest.raises(ConfigError, match="structured_output is 'on'"):
        run(model, tmp_path, context_window=8192, max_output_tokens=2048, structured_output="on")
    tools = tool_model(16_385, 4096, False)
    assert run(tools, tmp_path, month="2026-02", structured_output="on").is_complete


def _openai_transport(bodies: list[dict]):
    """An OpenAI-compatible chat endpoint in memory (httpx.MockTransport, no socket)."""
    import json

    import httpx

    def handle(request: httpx.Request) -> httpx.Response:
        body = json.loads(request.content)
        bodies.append(body)
        return httpx.Response(200, json=openai_tool_completion(body))

    return httpx.Client(transport=httpx.MockTransport(handle))


@pytest.mark.parametrize("base_url", [None, "http://127.0.0.1:8000/v1"], ids=["openai", "server"])
def test_openai_compatible_servers_also_get_max_tokens(tmp_path, base_url):
    """ChatOpenAI sends max_completion_tokens, which llama.cpp's server ignores: a base_url
    server gets max_tokens too (in extra_body), api.openai.com does not."""
    from langchain_openai import ChatOpenAI

    bodies: list[dict] = []
    model = ChatOpenAI(
        model="gpt-4o" if base_url is None else "local-gguf",
        base_url=base_url,
        api_key="sk-test",
        http_client=_openai_transport(bodies),
        max_retries=0,
    )
    cal = run(model, tmp_path, month="2026-02", context_window=16_385, max_output_tokens=4096)
    assert cal.is_complete and bodies
    for body in bodies:
        assert body["max_completion_tokens"] > 0
        if base_url is None:
            assert "max_tokens" not in body
        else:
            assert body["max_tokens"] == body["max_completion_tokens"]
