"""Prose mode: a small local model writes each post one field at a time, in plain chat;
reelcal cleans each answer, asks a field again within the call when it misses its rule,
and checks and re-asks the post as for any model, within the window."""

from __future__ import annotations

import os
from typing import Any

import pytest
from langchain_core.language_models import BaseChatModel
from langchain_core.messages import AIMessage, BaseMessage
from langchain_core.outputs import ChatGeneration, ChatResult
from pydantic import Field

from pipeline.config import Settings
from pipeline.generation.chains import generate_calendar
from pipeline.generation.replies.prose import (
    first_question,
    keyword_hashtags,
    one_line,
    short_title,
    spoken_text,
    whole_sentences,
    within_words,
)
from pipeline.generation.writing.prose import (
    PROSE_GGUF_BYTES,
    PROSE_SCRIPT_WORDS,
    ProseWriter,
    day_writer,
    echoes,
    writes_prose,
)
from pipeline.generation.writing.writer import DayWriter
from pipeline.platforms import hashtag_cap
from tests.scripted import (
    FIXED_RETRIEVER,
    OUTLINE_IDEAS,
    ScriptedChatModel,
    count_prompt,
    count_text,
    is_outline_prompt,
    outline_dict,
    outline_rows,
    requested_days,
)

SCRIPT = (
    "Did you know an AI agent can answer {n} customer emails before you wake up? It reads "
    "each one, drafts a reply in your voice and waits for your yes. You stay in control, "
    "and your inbox stops running your morning. Follow for the setup!"
)


class SmallLocalModel(BaseChatModel):
    """A stand-in for a small llama.cpp GGUF (a ``model_path`` and a ``loaded`` hook),
    answering each prose question the way SmolLM2 does: preambles, quotes, emoji, hashtags
    and numbered lists. It counts its prompts with tiktoken (not reelcal's counter) and
    records every request over its window."""

    model_path: str
    window: int = 4096
    #: the first this many script answers are two words (a field asked again)
    short_scripts: int = 0
    #: keywords that make no hashtag (numbers only)
    no_keywords: bool = False
    #: the first this many cover texts repeat their question
    echo_hooks: int = 0
    #: every title is the same until a question says why the last was not kept
    same_title: bool = False
    prompts: list[str] = Field(default_factory=list)
    over_window: list[int] = Field(default_factory=list)

    def loaded(self) -> None:  # what writes_prose looks for on a llama.cpp model
        return None

    @property
    def _llm_type(self) -> str:
        return "small-local-fake"

    def answer(self, prompt: str) -> str:
        n = len(self.prompts)
        if "video script about" in prompt:
            if self.short_scripts:
                self.short_scripts -= 1
                return '"Hi there."'
            return f'Here\'s a short video script:\n\n"{SCRIPT.format(n=n)} 🚀" #ai #agents'
        if "short title" in prompt:
            if self.same_title and "Not like last time" not in prompt:
                return 'Title: "The inbox agent"'
            return f'"{OUTLINE_IDEAS[n % len(OUTLINE_IDEAS)]}"'
        if "question to ask viewers" in prompt:
            return '"Which email would you hand to an agent first?"'
        if "one question" in prompt and self.echo_hooks:
            self.echo_hooks -= 1
            return "What's a question that makes people watch a video about it?"
        if "one question" in prompt:
            return 'How about "Can an agent answer your email?"'
        if "caption" in prompt:
            return "Here's a caption:\nYour inbox, answered while you sleep. ✨"
        if "keywords" in prompt and self.no_keywords:
            return "1. 2024\n2. 1999"
        if "keywords" in prompt:
            return "Here are five keywords:\n1. Automation\n2. AI (Artificial Intelligence)\n3. Email\n4. 2024"
        if "how to film" in prompt:
            return "Film at your desk with the phone on a tripod."
        if "background music" in prompt:
            return "Soft lo-fi beats"
        if "one tip" in prompt:
            return "Cut every pause longer than a second."
        if is_outline_prompt(prompt):
            return outline_rows([outline_dict(d) for d in requested_days(prompt)])
        raise AssertionError(f"unexpected prompt: {prompt[:200]}")

    def _generate(
        self, messages: list[BaseMessage], stop: Any = None, run_manager: Any = None, **kw: Any
    ) -> ChatResult:
        prompt = "\n".join(str(m.content) for m in messages)
        used, max_tokens = count_prompt(messages), kw.get("max_tokens")
        if max_tokens is None or used + max_tokens > self.window:
            self.over_window.append(used + (max_tokens or 0))
        self.prompts.append(prompt)
        text = self.answer(prompt)
        while max_tokens and count_text(text) > max_tokens:  # cut at max_tokens
            text = text.rsplit(" ", 1)[0]
        message = AIMessage(
            content=text,
            usage_metadata={
                "input_tokens": used,
                "output_tokens": count_text(text),
                "total_tokens": used + count_text(text),
            },
            response_metadata={"finish_reason": "stop"},
        )
        return ChatResult(generations=[ChatGeneration(message=message)])


@pytest.fixture
def gguf(tmp_path) -> str:
    path = tmp_path / "tiny.gguf"
    path.write_bytes(b"GGUF" + bytes(64))
    return str(path)


def settings(tmp_path, **overrides: Any) -> Settings:
    base = {
        "context_window": 4096,
        "max_output_tokens": 1024,
        "output_dir": tmp_path,
        "outline": False,
        "max_stalled_rounds": 3,
    }
    return Settings(**{**base, **overrides})


def run(model: SmallLocalModel, tmp_path, **kw: Any):
    overrides = kw.pop("overrides", {})
    return generate_calendar(
        trends=["AI agents", "automation"],
        niche="AI tools for creators",
        model=model,
        settings=settings(tmp_path, **overrides),
        retriever=FIXED_RETRIEVER,
        **kw,
    )


# ---------------------------------------------------------------- reading answers
@pytest.mark.parametrize(
    ("answer", "expected"),
    [
        (
            'Here\'s a script:\n\n"Hi there! Follow for more." #ai #tools',
            "Hi there! Follow for more.",
        ),
        ("## Inbox\n- Love is in #every inbox. 🌸 @someone", "Inbox Love is in every inbox."),
        ("See https://example.com/x now.", "See now."),
    ],
    ids=["preamble-quotes-tags", "markdown-emoji-handle", "link"],
)
def test_spoken_text_keeps_the_answer_and_drops_its_wrapping(answer, expected):
    assert spoken_text(answer) == expected


@pytest.mark.parametrize(
    ("answer", "expected"),
    [
        ('How about "Are you an AI agent?"', "Are you an AI agent?"),
        (
            'The question:\n"What do you think about automation?"',
            "What do you think about automation?",
        ),
        ('Title: "Inbox agents explained" #ai', "Inbox agents explained"),
        ('"A quote, then more"', "A quote, then more"),
        ("1.\n2. Soft lo-fi beats", "Soft lo-fi beats"),
    ],
)
def test_one_line_takes_the_quoted_or_first_line(answer, expected):
    assert one_line(answer) == expected


def test_keywords_become_one_word_hashtags_without_numbers_or_repeats():
    answer = "Here are five keywords:\n\n1. Automation\n2. AI (Artificial Intelligence)\n3. Customer Service\n4. automation\n5. 2024\n\nThese words are the most useful ones"
    assert keyword_hashtags(answer) == ["#automation", "#ai", "#customerservice"]
    assert keyword_hashtags("#ai, #tools; #creators", limit=2) == ["#ai", "#tools"]


def test_a_script_is_cut_at_the_last_sentence_within_its_cap():
    text = "One two three. Four five six! Seven eight nine ten."
    assert within_words(text, 7) == "One two three. Four five six!"
    assert within_words(text, 20) == text
    assert within_words("One long first sentence here.", 2) == "One long first sentence here."


def test_the_comment_question_is_the_answers_first_question():
    assert first_question("Dear viewers,\nwhich tool saves you an hour? Tell me below!") == (
        "Dear viewers, which tool saves you an hour?"
    )
    assert first_question('"What would you automate first?"') == "What would you automate first?"
    assert first_question("Ask them about their tools.") == "Ask them about their tools."


def test_a_sentence_cut_by_max_tokens_is_dropped_when_a_whole_one_comes_first():
    assert whole_sentences("Soft lo-fi beats. The video's narrative") == "Soft lo-fi beats."
    assert whole_sentences("Soft lo-fi beats and a") == "Soft lo-fi beats and a"
    assert whole_sentences('He said "go." Then left!') == 'He said "go." Then left!'
    assert one_line('"The AI in Your Life') == "The AI in Your Life"


def test_a_title_that_runs_on_is_cut_at_its_first_clause():
    long = "AI agents explained: a guide to the tools that answer your customer emails all day"
    assert short_title(long, 10) == "AI agents explained"
    assert short_title("Short one", 10) == "Short one"
    on_and_on = "On the 4th of July, in Washington's National Anthem, it is a time to celebrate"
    assert short_title(on_and_on, 10) == "On the 4th of July"


# ---------------------------------------------------------------- who writes in prose
def test_a_small_local_gguf_writes_in_prose_and_nothing_else_does(tmp_path, gguf):
    small = SmallLocalModel(model_path=gguf)
    assert writes_prose(small, Settings())
    limits = Settings(context_window=4096, max_output_tokens=1024)
    assert isinstance(day_writer(small, limits, role="main"), ProseWriter)
    assert not writes_prose(small, Settings(structured_output="on"))
    assert not writes_prose(small, Settings(structured_output="off"))
    big = tmp_path / "big.gguf"
    with open(big, "wb") as f:  # sparse: no disk used
        f.truncate(PROSE_GGUF_BYTES + 1)
    assert not writes_prose(SmallLocalModel(model_path=str(big)), Settings())
    hosted = ScriptedChatModel()
    assert not writes_prose(hosted, Settings())
    assert type(day_writer(hosted, limits, role="main")) is DayWriter
    os.remove(big)


# ---------------------------------------------------------------- runs
def test_a_week_in_prose_is_complete_clean_and_within_the_window(tmp_path, gguf):
    model = SmallLocalModel(model_path=gguf)
    cal = run(model, tmp_path, week="2026-W06")
    assert cal.is_complete and len(cal.days) == 7
    assert model.over_window == []
    low, high = PROSE_SCRIPT_WORDS
    for day in cal.days:
        assert day.script.startswith("Did you know") and day.script.endswith("setup!")
        assert low <= len(day.script.split()) <= high
        assert day.title in OUTLINE_IDEAS
        assert day.hook == "Can an agent answer your email?"
        assert day.caption == "Your inbox, answered while you sleep."
        assert day.hashtags[:3] == ["#automation", "#ai", "#email"]
        assert day.engagement == "Which email would you hand to an agent first?"
    assert not any(cal.sources.values())  # its questions carried no examples
    for record in cal.usage:
        assert record.days_requested and len(record.days_requested) == 1
        assert record.prompt_tokens + record.max_tokens <= 4096
        assert record.input_tokens > record.prompt_tokens  # nine questions, one record


def test_a_field_that_misses_its_rule_is_asked_again_within_the_call(tmp_path, gguf):
    model = SmallLocalModel(model_path=gguf, short_scripts=1)
    cal = run(model, tmp_path, start="2026-02-03", end="2026-02-03")
    assert cal.is_complete
    assert sum("video script about" in p for p in model.prompts) == 2
    assert len([u for u in cal.usage if u.role == "main"]) == 1


def test_an_answer_that_repeats_its_question_is_asked_again(tmp_path, gguf):
    model = SmallLocalModel(model_path=gguf, echo_hooks=1)
    cal = run(model, tmp_path, start="2026-02-03", end="2026-02-03")
    assert cal.days[0].hook == "Can an agent answer your email?"
    assert sum("makes people watch" in p for p in model.prompts) == 2
    assert echoes(
        "A question that makes people watch!", "Write one question that makes people watch"
    )
    assert not echoes(
        "Can an agent answer your email?", "Write one question that makes people watch"
    )


def test_missing_hashtags_come_from_the_topic_trends_and_niche(tmp_path, gguf):
    model = SmallLocalModel(model_path=gguf, no_keywords=True)
    cal = run(model, tmp_path, start="2026-02-03", end="2026-02-03")  # post 1: "AI agents"
    assert cal.days[0].hashtags == ["#aiagents", "#automation", "#tools"]
    assert sum("keywords" in p for p in model.prompts) == 2  # asked twice, then filled in


def test_a_repeated_title_is_asked_again_with_why(tmp_path, gguf):
    model = SmallLocalModel(model_path=gguf, same_title=True)
    cal = run(model, tmp_path, start="2026-02-03", end="2026-02-05")
    assert cal.is_complete
    assert len({d.title for d in cal.days}) == 3
    why = [p for p in model.prompts if "Not like last time" in p]
    assert why and all("short title" in p and "repeats" in p for p in why)


def test_outline_span_and_two_platforms_together_on_a_4096_window(tmp_path, gguf):
    """All features at once in prose: an outline (pipe rows), a Mon/Wed/Fri span over
    two weeks, a TikTok copy per post, on a 4,096-token window."""
    model = SmallLocalModel(model_path=gguf)
    cal = run(
        model,
        tmp_path,
        start="2027-03-01",
        end="2027-03-14",
        cadence="mon,wed,fri",
        platforms=["instagram", "tiktok"],
        overrides={"outline": True},
    )
    assert cal.is_complete and len(cal.days) == 6
    assert model.over_window == []
    assert any(u.role == "outline" for u in cal.usage)
    for day in cal.days:
        copy = day.copies["tiktok"]
        assert copy.caption == "Your inbox, answered while you sleep."
        assert 1 <= len(copy.hashtags) <= hashtag_cap("tiktok")
    assert any("TikTok caption" in p for p in model.prompts)
    # the outline line's trend is the post's topic ("uses": AI agents on odd posts)
    assert any("video script about AI agents" in p for p in model.prompts)


def test_the_chain_writes_every_post_it_is_given(tmp_path, gguf):
    """Run alone (as in a user's own LCEL app), one request may hold several posts."""
    from pipeline.dates import parse_month
    from pipeline.generation.writing.writer import ChunkRequest, MonthContext

    model = SmallLocalModel(model_path=gguf)
    writer = day_writer(model, settings(tmp_path), role="main")
    month = parse_month("2027-02")
    context = MonthContext(month, ["AI agents"], "AI tools", "Instagram Reels", [], "")
    result = writer.chain.invoke(ChunkRequest("main", [13, 14], context))
    assert [p.day for p in result.plans] == [13, 14]
    assert result.usage.days_parsed == 2 and result.usage.finish_reason == "stop"
    assert model.over_window == []
