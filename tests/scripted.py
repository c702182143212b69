"""A scripted chat model for unit tests of the generation loop.

It reads which days a prompt asks for (the prompt names them: "Day 12", "Day 10 to
Day 18", "Day 3, Day 7 and Day 12"; posts of other schedules "Post 3 (Wednesday 10 March
2027, 18:00)"), answers with pipe rows for them, and can be told
to misbehave: skip days, repeat days, number days wrongly, answer with markdown
tables, chat before the rows, stop mid-row at max_tokens, raise transient or
context-overflow errors, or enforce its own context window and output cap.
"""

from __future__ import annotations

import json
import random
import re
from collections.abc import Callable
from typing import Any

import tiktoken
from langchain_core.callbacks import CallbackManagerForLLMRun
from langchain_core.documents import Document
from langchain_core.exceptions import ModelRateLimitError
from langchain_core.language_models import BaseChatModel
from langchain_core.messages import AIMessage, BaseMessage
from langchain_core.outputs import ChatGeneration, ChatResult
from langchain_core.runnables import RunnableLambda
from pydantic import Field, PrivateAttr

from pipeline.models.tokens import ensure_tiktoken_cache

# The encoding file comes from reelcal's offline cache (no network in tests); the
# counting is done here with tiktoken directly (not pipeline.models.tokens), the way OpenAI documents
# chat prompts: each message's text plus 4, plus 3 for the reply's priming.
ensure_tiktoken_cache()
_ENCODING = tiktoken.get_encoding("cl100k_base")


def count_text(text: str) -> int:
    return len(_ENCODING.encode(text, disallowed_special=()))


def count_prompt(messages: list[BaseMessage]) -> int:
    return 3 + sum(4 + count_text(str(m.content)) for m in messages)


_FIRST_LINE_DAYS = re.compile(r"\b(?:Day|Post) (\d+)(?: to (?:Day|Post) (\d+))?")


def requested_days(prompt: str) -> list[int]:
    """The days named on the request line of a generation prompt: "Day 12", "Day 10 to
    Day 18", or posts of any other schedule, "Post 3 (Wednesday 10 March 2027, 18:00) and
    Post 4 (...)" (the numbers are post numbers, which the model's day field holds)."""
    line = next(
        l for l in prompt.splitlines() if l.startswith(("Plan ", "Write the missing", "Outline "))
    )
    days: list[int] = []
    for start, end in _FIRST_LINE_DAYS.findall(line):
        days.extend(range(int(start), int(end or start) + 1))
    return days


#: ``script_words`` for runs of these scripted models: their scripts are 12 words, the
#: content rules' default for hosted models is 120-250 (tests of the rules set their own).
SCRIPTED_SCRIPT_WORDS = (5, 250)


_COPIES_LINE = re.compile(r"^- (?:Day|Post) (\d+)\b.*Write copies for: ([a-z_, ]+)", re.MULTILINE)


def requested_copies(prompt: str) -> dict[int, list[str]]:
    """A copies prompt's posts and the platforms each needs a copy for (empty for any
    other prompt)."""
    return {
        int(n): [k.strip() for k in keys.split(",") if k.strip()]
        for n, keys in _COPIES_LINE.findall(prompt)
    }


def copy_dict(day: int, platform: str) -> dict[str, Any]:
    """A copy within every platform's limits."""
    copy: dict[str, Any] = {
        "caption": f"{platform} caption for {day}",
        "hashtags": ["#reels", f"#{platform}{day}", "#ai"],
    }
    if platform == "youtube_shorts":
        copy["title"] = f"Short title {day}"
    return copy


def outline_settings(tmp_path: Any, **overrides: Any) -> Any:
    """Settings of a month with the outline on, at gpt-4o-class limits, offline."""
    from pipeline.config import Settings

    values = {
        "output_dir": tmp_path,
        "context_window": 128_000,
        "max_output_tokens": 16_384,
        "outline": True,
        "embeddings": "fake:384",
        "script_words": SCRIPTED_SCRIPT_WORDS,
    }
    return Settings(**{**values, **overrides})


def idea_title(day: int, tag: str = "") -> str:
    """A scripted reel's title: "Idea 5: <one of OUTLINE_IDEAS>". Titles are compared by
    meaning (the real MiniLM in integration tests) and "Idea 1" / "Idea 2" alone are the
    same idea, so each day carries its own."""
    return f"Idea {day}{tag}: {OUTLINE_IDEAS[(day - 1) % len(OUTLINE_IDEAS)]}"


def row(day: int, *, tag: str = "") -> str:
    return (
        f"Day {day} | {idea_title(day, tag)} | Hook {day} | Caption for {day}, with a comma | "
        f"Script for reel {day}: say hello, show the thing, ask a question. | Talking head | "
        f"Original voiceover | #reels #tips{day} #ai | Film at a window | Ask viewers to comment"
    )


def is_outline_prompt(prompt: str) -> bool:
    """Whether a prompt asks for the month outline (not for reels)."""
    return any(line.startswith("Outline ") for line in prompt.splitlines())


#: 31 distinct ideas: outline titles that no title check takes for repeats.
OUTLINE_IDEAS = (
    "Three inbox agents that answer email while you sleep",
    "How I schedule a month of posts in one afternoon",
    "The budget spreadsheet trick nobody told me",
    "Why your hook loses viewers in the first second",
    "Cooking a week of dinners in fifteen minutes",
    "A tour of my tiny home recording studio",
    "What happened when I posted daily for ninety days",
    "The one lighting mistake that ruins phone videos",
    "Automating invoices for freelancers step by step",
    "Myths about the algorithm, busted with real numbers",
    "Five free tools for captions and subtitles",
    "My morning routine as a full-time creator",
    "How to turn one podcast into ten short clips",
    "The pricing conversation that doubled my rates",
    "Behind the scenes of a sponsored collaboration",
    "Reading analytics: the only three numbers that matter",
    "Travel vlogging with nothing but a phone",
    "Saying no to clients without burning bridges",
    "A beginner's guide to color grading",
    "Batch filming: twelve videos in one session",
    "The story of my first viral failure",
    "Writing scripts with a chatbot, honestly reviewed",
    "Healthy snacks for long editing nights",
    "How to answer hate comments with grace",
    "Negotiating with brands as a small account",
    "Desk setup upgrades under fifty dollars",
    "Learning to edit faster with keyboard shortcuts",
    "Why I deleted half of my old videos",
    "Teaching my grandmother to make a reel",
    "Planning content around holidays and events",
    "What I would tell myself on day one",
)


def outline_dict(day: int) -> dict[str, Any]:
    """A valid outline line for ``day`` (its title is one of :data:`OUTLINE_IDEAS`)."""
    return {
        "day": day,
        "title": OUTLINE_IDEAS[(day - 1) % len(OUTLINE_IDEAS)],
        "pillar": ("Education", "Proof", "Behind the scenes")[day % 3],
        "format": ("Myth vs Fact", "3 mistakes", "Tutorial in 3 steps")[day % 3],
        "series": "Myth Monday" if day % 7 == 1 else "",
        "uses": "AI agents" if day % 2 else "",
    }


def outline_rows(lines: list[dict[str, Any]]) -> str:
    """Outline lines as pipe rows, as a model without tools writes them."""
    keys = ("day", "title", "pillar", "format", "series", "uses")
    return "\n".join(" | ".join(str(line[k]) for k in keys) for line in lines)


class TransientModelError(ModelRateLimitError):
    """A rate limit, typed the way langchain-core's provider integrations type it."""


class ScriptedChatModel(BaseChatModel):
    """Answers generation prompts with rows, shaped by ``behaviour``.

    behaviour(days, call_index, max_tokens) -> reply text, or raises.
    """

    behaviour: Callable[[list[int], int, int], str] = Field(default=None)
    #: outline calls: outline_behaviour(days, call_index) -> outline lines (dicts);
    #: default: :func:`outline_dict` of each day
    outline_behaviour: Callable[[list[int], int], list[dict[str, Any]]] | None = None
    #: copies calls: copy_maker(day, platform, call_index) -> a copy (dict); default
    #: :func:`copy_dict`
    copy_maker: Callable[[int, str, int], dict[str, Any]] | None = None
    window: int | None = None
    output_cap: int | None = None
    prompts: list[str] = Field(default_factory=list)
    max_tokens_seen: list[int] = Field(default_factory=list)
    finish_reasons: list[str] = Field(default_factory=list)
    #: Requests that broke the window or the output cap (each also raised, as a provider would).
    violations: list[str] = Field(default_factory=list)
    _calls: int = PrivateAttr(0)
    _lock: Any = PrivateAttr(default_factory=lambda: __import__("threading").Lock())

    @property
    def _llm_type(self) -> str:
        return "scripted"

    def enforce_limits(self, prompt_tokens: int, max_tokens: int) -> None:
        """Reject (and record) a request over the window or the output cap, as a provider
        would; ``prompt_tokens`` is this model's own count of what was sent."""
        if self.window is not None and prompt_tokens + max_tokens > self.window:
            self.violations.append(f"window: {prompt_tokens} + {max_tokens} > {self.window}")
            raise ValueError(
                f"This model's maximum context length is {self.window} tokens; you requested "
                f"{prompt_tokens + max_tokens} (context_length_exceeded)"
            )
        if self.output_cap is not None and max_tokens > self.output_cap:
            self.violations.append(f"output cap: {max_tokens} > {self.output_cap}")
            raise ValueError(f"max_tokens {max_tokens} is above the output cap {self.output_cap}")

    def _generate(
        self,
        messages: list[BaseMessage],
        stop: Any = None,
        run_manager: CallbackManagerForLLMRun | None = None,
        **kwargs: Any,
    ) -> ChatResult:
        max_tokens = kwargs.get("max_tokens")
        assert max_tokens is not None and max_tokens > 0, "every call must carry max_tokens"
        prompt_tokens = count_prompt(messages)
        self.enforce_limits(prompt_tokens, max_tokens)
        prompt = messages[-1].content
        with self._lock:
            self.prompts.append(prompt)
            self.max_tokens_seen.append(max_tokens)
            index = self._calls
            self._calls += 1
        if copies := requested_copies(prompt):
            text = json.dumps({"days": self.copies_for(copies, index)})
        elif is_outline_prompt(prompt):
            text = outline_rows(self.outline_lines(requested_days(prompt), index))
        else:
            text = self.behaviour(requested_days(prompt), index, max_tokens)
        finish = "stop"
        tokens = count_text(text)
        if tokens > max_tokens:  # a real model stops at max_tokens, mid-row
            text = _ENCODING.decode(_ENCODING.encode(text, disallowed_special=())[:max_tokens])
            finish = "length"
        with self._lock:
            self.finish_reasons.append(finish)
        message = AIMessage(
            content=text,
            response_metadata={"finish_reason": finish},
            usage_metadata={
                "input_tokens": prompt_tokens,
                "output_tokens": min(tokens, max_tokens),
                "total_tokens": prompt_tokens + min(tokens, max_tokens),
            },
        )
        return ChatResult(generations=[ChatGeneration(message=message)])

    def copies_for(self, wanted: dict[int, list[str]], index: int) -> list[dict[str, Any]]:
        make = self.copy_maker or (lambda day, platform, _: copy_dict(day, platform))
        return [
            {"day": day, "copies": {k: make(day, k, index) for k in keys}}
            for day, keys in wanted.items()
        ]

    def outline_lines(self, days: list[int], index: int) -> list[dict[str, Any]]:
        if self.outline_behaviour is not None:
            return self.outline_behaviour(days, index)
        return [outline_dict(d) for d in days]


def rows_for(days: list[int]) -> str:
    return "\n".join(row(d) for d in days)


def seeded(seed: int) -> random.Random:
    return random.Random(seed)


def row_dict(day: int) -> dict[str, Any]:
    return {
        "day": day,
        "title": idea_title(day),
        "hook": f"Hook {day}",
        "caption": f"Caption for {day}, with a comma",
        "script": f"Script for reel {day}: say hello, show the thing, ask a question.",
        "video_style": "Talking head",
        "audio": "Original voiceover",
        "hashtags": ["#reels", f"#tips{day}", "#ai"],
        "production_notes": "Film at a window",
        "engagement": "Ask viewers to comment",
    }


class ScriptedToolModel(ScriptedChatModel):
    """A tool-calling model that counts the tool schema toward its window the way OpenAI
    does (the function JSON is part of what is sent), answers with a forced tool call,
    and can spend hidden reasoning tokens inside max_tokens like o-series / gpt-5 models.

    ``reasoning`` is (low, high): hidden tokens spent per call, drawn at random; a call
    whose reasoning eats max_tokens returns nothing with finish "length".
    """

    reasoning: tuple[int, int] | None = None
    seed: int = 0
    #: row_maker(day) -> the row (a dict) the model writes for ``day``; default row_dict
    row_maker: Callable[[int], dict[str, Any]] | None = None
    requests: list[tuple[str, int]] = Field(default_factory=list)
    #: (messages only, messages + tool schema) as this model counted each request
    counted: list[tuple[int, int]] = Field(default_factory=list)
    _rng: Any = PrivateAttr(default=None)

    def bind_tools(self, tools: Any, *, tool_choice: Any = None, **kwargs: Any) -> Any:
        return self.bind(tools=tools, tool_choice=tool_choice, **kwargs)

    def _generate(
        self,
        messages: list[BaseMessage],
        stop: Any = None,
        run_manager: CallbackManagerForLLMRun | None = None,
        **kwargs: Any,
    ) -> ChatResult:
        import json

        max_tokens = kwargs.get("max_tokens")
        tools = kwargs.get("tools")
        assert max_tokens and tools, "every call carries max_tokens and the tool"
        schema_tokens = count_text(json.dumps(tools))
        prompt_tokens = count_prompt(messages) + schema_tokens
        self.enforce_limits(prompt_tokens, max_tokens)
        prompt = messages[-1].content
        with self._lock:
            if self._rng is None:
                self._rng = random.Random(self.seed)
            hidden = self._rng.randint(*self.reasoning) if self.reasoning else 0
            self.prompts.append(prompt)
            self.requests.append((prompt, max_tokens))
            self.counted.append((prompt_tokens - schema_tokens, prompt_tokens))
            self.max_tokens_seen.append(max_tokens)
            index = self._calls
            self._calls += 1
        name = tools[0]["function"]["name"]
        days = requested_days(prompt) if name != "post_copies" else []
        if name == "post_copies":
            args = {"days": self.copies_for(requested_copies(prompt), index)}
        elif name == "month_outline":
            args = {"days": self.outline_lines(days, index)}
        else:
            reply = self.behaviour(days, index, max_tokens) if self.behaviour else None
            make = self.row_maker or row_dict
            args = {"days": [make(d) for d in (reply if reply is not None else days)]}
        text = json.dumps(args)
        visible_budget = max(0, max_tokens - hidden)
        tokens = count_text(text)
        finish = "tool_calls"
        meta: dict[str, Any] = {}
        if hidden >= max_tokens:
            message = AIMessage(content="")
            hidden, tokens, finish = max_tokens, 0, "length"
        elif tokens > visible_budget:
            cut = _ENCODING.decode(_ENCODING.encode(text)[:visible_budget])
            message = AIMessage(
                content="",
                invalid_tool_calls=[{"name": name, "args": cut, "id": "call_1", "error": "cut"}],
            )
            tokens, finish = visible_budget, "length"
        else:
            message = AIMessage(
                content="", tool_calls=[{"name": name, "args": args, "id": "call_1"}]
            )
        with self._lock:
            self.finish_reasons.append(finish)
        message.response_metadata = {"finish_reason": finish, **meta}
        message.usage_metadata = {
            "input_tokens": prompt_tokens,
            "output_tokens": hidden + tokens,
            "total_tokens": prompt_tokens + hidden + tokens,
            "output_token_details": {"reasoning": hidden} if self.reasoning else {},
        }
        return ChatResult(generations=[ChatGeneration(message=message)])


#: Six mentor examples, and a retriever that always returns them (no index needed).
MENTOR_DOCS = [
    Document(
        page_content=f"Transcript {i}. Open with a hook. Show the result. Ask for a comment.",
        metadata={
            "creator": f"mentor{i % 3}",
            "source_id": f"r{i}",
            "views": 1000 * i,
            "hook": f"Hook {i}",
        },
    )
    for i in range(6)
]
FIXED_RETRIEVER = RunnableLambda(lambda _: list(MENTOR_DOCS), name="retrieve")


def requested_tool(body: dict[str, Any]) -> str:
    """The tool a request forces (``month_outline`` for the outline, else the days')."""
    for tool in body.get("tools") or []:
        return tool["function"]["name"]
    return "calendar_days"


def openai_tool_completion(body: dict[str, Any]) -> dict[str, Any]:
    """An OpenAI chat completion answering a reelcal request ``body`` (the JSON sent to
    ``/v1/chat/completions``) with a forced tool call holding the requested days, and
    usage counted here."""
    import json

    days = requested_days(body["messages"][-1]["content"])
    tool = requested_tool(body)
    lines = [outline_dict(d) if tool == "month_outline" else row_dict(d) for d in days]
    args = json.dumps({"days": lines})
    prompt = sum(count_text(m.get("content") or "") for m in body["messages"])
    call = {"id": "c1", "type": "function", "function": {"name": tool, "arguments": args}}
    return {
        "id": "chatcmpl-scripted",
        "object": "chat.completion",
        "created": 0,
        "model": body["model"],
        "choices": [
            {
                "index": 0,
                "finish_reason": "tool_calls",
                "message": {"role": "assistant", "content": None, "tool_calls": [call]},
            }
        ],
        "usage": {
            "prompt_tokens": prompt,
            "completion_tokens": count_text(args),
            "total_tokens": prompt + count_text(args),
        },
    }


def february_2027() -> Any:
    """A complete February 2027 calendar ("Kept title N"), to regenerate days of."""
    import datetime as dt

    from pipeline.calendar import Calendar, DayPlan

    days = [
        DayPlan(
            day=d,
            date=dt.date(2027, 2, d),
            title=f"Kept title {d}",
            hook=f"Hook {d}",
            caption=f"Caption {d}, with a comma",
            script=f'Script {d}: say it "plainly".',
            video_style="Talking head",
            audio="Voiceover",
            hashtags=["#ai", f"#day{d}"],
            production_notes="Window light",
            engagement="Ask a question",
        )
        for d in range(1, 29)
    ]
    return Calendar(
        year=2027, month=2, days=days, niche="AI tools", trends=["AI agents"], model="scripted"
    )


# --------------------------------------------------------------------- real-length reels
#: Words a realistic script is made of (the rules count words, the budget counts tokens).
_SCRIPT_WORDS = [
    "open",
    "with",
    "the",
    "result",
    "then",
    "show",
    "the",
    "three",
    "steps",
    "that",
    "got",
    "you",
    "there",
    "and",
    "end",
    "with",
    "a",
    "question",
    "your",
    "viewers",
    "can",
    "answer",
    "in",
    "one",
    "word",
    "while",
    "you",
    "point",
    "at",
    "the",
    "screen",
    "and",
    "smile",
    "because",
    "nobody",
    "wants",
    "a",
    "lecture",
    "they",
    "want",
    "the",
    "shortcut",
    "you",
    "found",
    "after",
    "a",
    "week",
    "of",
    "tests",
]

_MENTOR_WORDS = [
    "stop",
    "scrolling",
    "here",
    "is",
    "the",
    "mistake",
    "I",
    "made",
    "for",
    "two",
    "years",
    "I",
    "filmed",
    "every",
    "day",
    "and",
    "grew",
    "slowly",
    "until",
    "I",
    "changed",
    "one",
    "thing",
    "the",
    "first",
    "frame",
    "now",
    "shows",
    "the",
    "ending",
    "so",
    "people",
    "stay",
    "to",
    "see",
    "how",
    "it",
    "happened",
    "try",
    "it",
    "on",
    "your",
    "next",
    "post",
    "and",
    "tell",
    "me",
    "what",
    "changed",
]
#: Mentor examples of real length (about 150 tokens each): the month's shared examples
#: fill a 1,000-token ``rag_token_budget``, as the bundled index does.
LONG_MENTOR_DOCS = [
    Document(
        page_content=" ".join(
            [f"Transcript {i} about creator tools."]
            + [_MENTOR_WORDS[(i * 7 + j) % len(_MENTOR_WORDS)] for j in range(110)]
        ),
        metadata={"creator": f"mentor{i % 4}", "source_id": f"long{i}", "views": 500 * i},
    )
    for i in range(12)
]
LONG_RETRIEVER = RunnableLambda(lambda _: list(LONG_MENTOR_DOCS), name="retrieve")


class Misbehaviour:
    """Rows of real length from a model that misbehaves as real ones do, seeded.

    - ``overshoot``: the share of rows whose script runs a few words over ``script_words``
      (251-265 for 120-250); ``stubborn`` days overshoot on every ask.
    - ``repeat_titles``: the share of rows whose title repeats another day's idea.
    """

    def __init__(
        self,
        seed: int = 0,
        *,
        overshoot: float = 0.25,
        repeat_titles: float = 0.15,
        stubborn: frozenset[int] = frozenset(),
        script_words: tuple[int, int] = (120, 250),
    ) -> None:
        self.rng = random.Random(seed)
        self.overshoot = overshoot
        self.repeat_titles = repeat_titles
        self.stubborn = stubborn
        self.script_words = script_words
        self.lock = __import__("threading").Lock()

    def row(self, day: int) -> dict[str, Any]:
        with self.lock:
            over = day in self.stubborn or self.rng.random() < self.overshoot
            repeat = self.rng.random() < self.repeat_titles
            other = self.rng.randint(1, 31)
            low, high = self.script_words
            words = (
                self.rng.randint(high + 1, high + 15)
                if over
                else self.rng.randint(low + 20, high - 20)
            )
        title_day = other if repeat and other != day else day
        script = " ".join(_SCRIPT_WORDS[(day + j) % len(_SCRIPT_WORDS)] for j in range(words))
        return {
            **row_dict(day),
            "title": OUTLINE_IDEAS[(title_day - 1) % len(OUTLINE_IDEAS)],
            "caption": f"Day {day}: the shortcut nobody shows you. Save this for later and "
            "share it with a friend who still does it the slow way.",
            "script": script,
            "hashtags": ["#reels", f"#tips{day}", "#ai", "#creator", "#shortcuts"],
            "production_notes": "Film at a window in soft light; two angles; captions on screen.",
        }

    def rows_text(self, days: list[int], *_: Any) -> str:
        """Pipe rows, for a text model's ``behaviour``."""
        keys = ("title", "hook", "caption", "script", "video_style", "audio")
        lines = []
        for day in days:
            r = self.row(day)
            cells = [f"Day {day}", *(r[k] for k in keys), " ".join(r["hashtags"])]
            lines.append(" | ".join([*cells, r["production_notes"], r["engagement"]]))
        return "\n".join(lines)


def limited_model(
    window: int, cap: int, *, tools: bool, behaviour: Misbehaviour
) -> ScriptedChatModel:
    """A model that enforces ``window`` and ``cap`` with its own count (tiktoken, tool schema
    included), with a profile saying so: a forced tool call or pipe rows."""
    if tools:
        model: ScriptedChatModel = ScriptedToolModel(
            window=window, output_cap=cap, row_maker=behaviour.row
        )
    else:
        model = ScriptedChatModel(window=window, output_cap=cap, behaviour=behaviour.rows_text)
    model.profile = {
        "max_input_tokens": window,
        "max_output_tokens": cap,
        "tool_calling": tools,
    }
    return model
