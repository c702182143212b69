"""The budget rules, checked against the seed's figures and by hand on tiny windows."""

from __future__ import annotations

import math
from dataclasses import replace

import pytest
from hypothesis import given
from hypothesis import strategies as st

from pipeline.errors import TokenBudgetError
from pipeline.generation.writing import budget as budget_module
from pipeline.generation.writing.budget import TokenBudget, estimate_tokens_per_day

GPT4_TURBO = {"context_window": 128_000, "max_output_tokens": 4096}
GPT35_TURBO = {"context_window": 16_385, "max_output_tokens": 4096}


def test_seed_main_call_on_gpt4_turbo_is_capped_at_4096():
    budget = TokenBudget(**GPT4_TURBO, safety_margin=2000, tokens_per_day=450)
    assert budget.available(3010) == 128_000 - 3010 - 2000
    assert budget.max_tokens(prompt_tokens=3010, days=31) == 4096


def test_seed_supplement_on_gpt35_turbo_gives_2640():
    budget = TokenBudget(**GPT35_TURBO, safety_margin=1000, tokens_per_day=120)
    assert budget.margin == 1000
    assert budget.max_tokens(prompt_tokens=412, days=22) == 22 * 120 == 2640


@pytest.mark.parametrize(
    ("window", "cap", "margin", "prompt", "days", "tpd", "expected"),
    [
        pytest.param(
            4096, 4096, 2000, 1500, 31, 450, 4096 - 1500 - 409, id="4k-window-margin-scaled"
        ),
        pytest.param(4096, 4096, 2000, 1500, 2, 450, 900, id="4k-few-days"),
        pytest.param(2048, 2048, 2000, 1000, 31, 300, 2048 - 1000 - 204, id="2k-local-window"),
        pytest.param(1000, 100, 0, 10, 5, 10, 50, id="tiny-by-hand"),
        pytest.param(1000, 100, 0, 10, 50, 10, 100, id="tiny-output-cap"),
        pytest.param(1000, 1000, 50, 900, 10, 10, 1000 - 900 - 50, id="tiny-available"),
    ],
)
def test_max_tokens_is_the_min_of_the_three(window, cap, margin, prompt, days, tpd, expected):
    budget = TokenBudget(
        context_window=window, max_output_tokens=cap, safety_margin=margin, tokens_per_day=tpd
    )
    assert budget.max_tokens(prompt, days) == expected


def test_zero_days_asks_for_nothing():
    assert TokenBudget(**GPT4_TURBO).max_tokens(3010, 0) == 0


def test_negative_days_is_a_bug():
    with pytest.raises(ValueError):
        TokenBudget(**GPT4_TURBO).max_tokens(3010, -1)


def test_prompt_larger_than_window_names_the_numbers():
    budget = TokenBudget(
        context_window=4096, max_output_tokens=4096, safety_margin=2000, tokens_per_day=450
    )
    with pytest.raises(TokenBudgetError) as err:
        budget.max_tokens(prompt_tokens=5000, days=1)
    message = str(err.value)
    assert "4,096-token window" in message and "5,000-token prompt" in message
    assert "rag_token_budget" in message and "\n" not in message
    assert err.value.prompt_tokens == 5000 and err.value.context_window == 4096


def test_one_day_that_does_not_fit_is_an_error_not_a_tiny_request():
    budget = TokenBudget(
        context_window=2048, max_output_tokens=2048, safety_margin=0, tokens_per_day=500
    )
    assert budget.days_per_call(1600) == 0
    with pytest.raises(TokenBudgetError):
        budget.chunk_days([1, 2], prompt_tokens=1600)


def test_31_days_on_a_4096_cap_are_planned_as_even_chunks():
    budget = TokenBudget(**GPT4_TURBO, tokens_per_day=450)
    chunks = budget.chunk_days(list(range(1, 32)), prompt_tokens=3010)
    assert budget.days_per_call(3010) == 9
    assert [len(c) for c in chunks] == [8, 8, 8, 7]
    assert [d for c in chunks for d in c] == list(range(1, 32))


def test_non_contiguous_missing_days_keep_their_numbers():
    budget = TokenBudget(
        context_window=1000, max_output_tokens=100, safety_margin=0, tokens_per_day=50
    )
    assert budget.chunk_days([3, 7, 8, 20, 31], prompt_tokens=10) == [[3, 7], [8, 20], [31]]


@given(
    window=st.integers(256, 200_000),
    cap=st.integers(16, 32_000),
    margin=st.integers(0, 4000),
    prompt=st.integers(0, 200_000),
    tpd=st.integers(20, 2000),
    n_days=st.integers(1, 31),
)
def test_no_plan_ever_exceeds_the_window(window, cap, margin, prompt, tpd, n_days):
    budget = TokenBudget(
        context_window=window, max_output_tokens=cap, safety_margin=margin, tokens_per_day=tpd
    )
    days = list(range(1, n_days + 1))
    try:
        chunks = budget.chunk_days(days, prompt)
    except TokenBudgetError:
        assert budget.days_per_call(prompt) == 0
        return
    assert sorted(d for c in chunks for d in c) == days
    for chunk in chunks:
        asked = budget.max_tokens(prompt, len(chunk))
        assert prompt + asked <= window
        assert asked <= cap
        assert asked >= tpd  # every chunk has room for at least one day


@pytest.mark.parametrize(
    ("out", "days", "previous", "expected"),
    [
        pytest.param(4000, 8, 450, 575, id="observed-plus-15pct"),
        pytest.param(0, 0, 450, 450, id="no-evidence-keeps-previous"),
        pytest.param(1000, 0, 300, 300, id="nothing-parsed"),
    ],
)
def test_tokens_per_day_reestimated(out, days, previous, expected):
    assert estimate_tokens_per_day(out, days, previous) == expected


# ------------------------------------------------------------------ reasoning and regrowth
def test_reasoning_reserve_comes_before_the_days():
    budget = TokenBudget(
        context_window=1000,
        max_output_tokens=500,
        safety_margin=0,
        tokens_per_day=100,
        reasoning_reserve=250,
    )
    assert budget.days_per_call(prompt_tokens=100) == (500 - 250) // 100 == 2
    assert budget.max_tokens(prompt_tokens=100, days=2) == 250 + 2 * 100
    assert budget.max_tokens(prompt_tokens=600, days=2) == 1000 - 600  # the window decides
    with pytest.raises(TokenBudgetError, match="250-token reasoning reserve"):
        budget.check(prompt_tokens=700)  # 300 left: the reserve plus one day does not fit


@pytest.mark.parametrize(
    ("reasoning", "sent", "expected"),
    [
        pytest.param(False, 200, (200, 0), id="rows-double-tokens-per-day"),
        pytest.param(True, 300, (100, 800), id="reasoning-grows-the-reserve-within-the-cap"),
        pytest.param(False, 900, None, id="cannot-ask-for-more"),
    ],
)
def test_a_cut_reply_is_never_asked_for_again_unchanged(reasoning, sent, expected):
    budget = TokenBudget(
        context_window=2000,
        max_output_tokens=900,
        safety_margin=0,
        tokens_per_day=100,
        reasoning_reserve=200 if reasoning else 0,
    )
    grown = budget_module.grown_after_length_cut(
        budget, prompt_tokens=100, days=2, max_tokens_sent=sent, reasoning=reasoning
    )
    if expected is None:
        assert grown is None
    else:
        assert (grown.tokens_per_day, grown.reasoning_reserve) == expected
        assert grown.max_tokens(100, 2) > sent


def test_small_rules_by_hand():
    assert budget_module.split_days(7) == 3 and budget_module.split_days(1) == 1
    assert budget_module.shrink_rag_budget(1000) == 500 and budget_module.shrink_rag_budget(90) == 0
    assert budget_module.estimate_reasoning_reserve([1000, 2000], previous=5) == 2300
    assert budget_module.estimate_reasoning_reserve([], previous=5) == 5
    assert TokenBudget(**GPT35_TURBO, tokens_per_day=400).chunks_needed(31) == 4


def test_a_learned_estimate_above_the_room_still_asks_for_one_day_when_a_day_fits():
    # one long reply raised tokens_per_day to 1,160; a longer prompt leaves 1,120
    budget = TokenBudget(
        context_window=4096, max_output_tokens=2048, safety_margin=409, tokens_per_day=1160
    )
    with pytest.raises(TokenBudgetError):
        budget.max_tokens(prompt_tokens=2567, days=1)
    floored = replace(budget, least_tokens_per_day=450)
    assert floored.days_per_call(2567) == 1
    assert floored.max_tokens(prompt_tokens=2567, days=1) == 1120  # all the room there is
    assert floored.days_per_call(3300) == 0  # 387 tokens left: less than a day needs
    with pytest.raises(TokenBudgetError):
        floored.check(3300)


def _call(output: int, days: int, finish: str = "stop") -> dict:
    return {"output_tokens": output, "days_parsed": days, "finish_reason": finish}


def test_the_learned_estimate_does_not_ratchet_on_cut_or_lone_replies():
    from pipeline.generation.writing.budget import learn_from_round

    history = [_call(700, 2), _call(760, 2), _call(690, 2)]  # ~358 tokens a day
    steady, _ = learn_from_round(history, history[-1:], 400, 0)
    assert steady == math.ceil(2150 / 6 * 1.15)
    # a reply cut at max_tokens with one of two days parsed holds part of the second day:
    # it does not teach the estimate (it would say 1,024 tokens a day)
    cut = _call(1024, 1, "length")
    assert learn_from_round([*history, cut], [cut], steady, 0)[0] == steady
    # one short re-ask of one day does not swing it either: the whole history counts
    short = _call(250, 1)
    assert learn_from_round([*history, short], [short], steady, 0)[0] == math.ceil(2400 / 7 * 1.15)
