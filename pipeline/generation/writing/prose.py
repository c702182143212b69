"""Prose mode: a small local model writes a post one field at a time, in plain chat.

A 135M model writes word salad inside a JSON grammar and loses itself in long prompts,
yet asked one short question it writes sentences (``benchmarks/bench_readability.py``,
February on the bundled model: a median script perplexity of 87.5 under the grammar, 15.2
in prose, 22.8 for its own free chat answers). So a :class:`ProseWriter` asks for one
post per call, each field its own short question from ``prompts/prose.yaml`` (the post's
topic and the rule the field must meet), the script first and the caption from it. Each
answer is cleaned (:mod:`pipeline.generation.replies.prose`), a field that misses its own
rule (or repeats its question) is asked once more within the call, and the post is then
checked and re-asked like any model's row, with why.

Who writes in prose: a llama.cpp GGUF under :data:`PROSE_GGUF_BYTES` (the bundled
SmolLM2-135M, 93 MB), when ``structured_output`` is ``auto``. ``structured_output: on``
keeps the grammar; hosted, Ollama and tool-calling models never write in prose. The
outline keeps its grammar: its fields are short and its day numbers must be exact.

Token limits hold as for every call: each field's question is counted with the model's
tokenizer, and each field's ``max_tokens`` is ``min(its cap, output_cap(largest
question))``, so every request fits ``prompt + max_tokens <= window - margin``; the
usage record shows the largest question and that ``max_tokens``.
"""

from __future__ import annotations

import re
import time
from dataclasses import dataclass, replace
from pathlib import Path
from typing import Any

import yaml
from langchain_core.language_models import BaseChatModel
from langchain_core.messages import AIMessage, BaseMessage, HumanMessage, SystemMessage
from langchain_core.runnables import RunnableConfig

from pipeline.config import Settings
from pipeline.generation.replies.parsing import ParseResult, parse_day_plans
from pipeline.generation.replies.prose import (
    first_question,
    keyword_hashtags,
    one_line,
    short_title,
    spoken_text,
    whole_sentences,
    within_words,
    words,
)
from pipeline.generation.review.rules import ContentRules, copied_run
from pipeline.generation.writing.budget import OutputMode
from pipeline.generation.writing.prompts import prompts_dir
from pipeline.generation.writing.writer import ChunkRequest, ChunkResult, DayWriter
from pipeline.models.failures import call_with_retries
from pipeline.models.traits import finish_reason
from pipeline.platforms import PLATFORMS

#: GGUF files under this size write in prose (SmolLM2-135M is 93 MB, 360M about 270 MB).
PROSE_GGUF_BYTES = 600_000_000
#: The script length prose mode asks for, and the rule it is held to (spoken words):
#: about 30 seconds at 150 words a minute.
PROSE_SCRIPT_WORDS = (25, 100)
PROSE_SCRIPT_TARGET = 60
#: Reply caps by field, in tokens (the script's follows its word cap).
FIELD_TOKENS = {
    "title": 28,
    "hook": 28,
    "caption": 64,
    "keywords": 40,
    "video_style": 44,
    "audio": 24,
    "production_notes": 44,
    "engagement": 36,
}
#: How often one field is asked within a call when its answer misses its own rule (or
#: repeats ECHO_RUN_WORDS words of its question).
FIELD_TRIES = 2
ECHO_RUN_WORDS = 4
#: A title longer than this is asked again (cover text and titles are read at a glance).
TITLE_MAX_WORDS = 10
_EXCERPT_CHARS = 300


def writes_prose(model: BaseChatModel, settings: Settings) -> bool:
    """Whether ``model`` writes in prose: a llama.cpp GGUF under :data:`PROSE_GGUF_BYTES`
    and ``structured_output`` left at ``auto``."""
    # duck-typed on what LlamaCppChatModel has (a GGUF path, a lazy loader), without
    # loading the GGUF or importing llama_cpp
    path = getattr(model, "model_path", None)
    if settings.structured_output != "auto" or not path or not hasattr(model, "loaded"):
        return False
    try:
        return Path(path).stat().st_size < PROSE_GGUF_BYTES
    except OSError:
        return False


@dataclass(frozen=True)
class ProsePrompts:
    """The questions of ``prompts/prose.yaml``."""

    system: str
    fields: dict[str, str]
    copy_caption: str

    @classmethod
    def load(cls) -> ProsePrompts:
        path = prompts_dir() / "prose.yaml"
        data = yaml.safe_load(path.read_text(encoding="utf-8"))
        return cls(data["system"], data["fields"], data["copy_caption"])


@dataclass
class Answers:
    """What one prose call got back: each post's fields, and the tokens it spent."""

    posts: dict[int, dict[str, Any]]
    input_tokens: int = 0
    output_tokens: int = 0
    longest_reply: int = 0
    finish: str | None = None


class ProseWriter(DayWriter):
    """A :class:`DayWriter` whose calls ask a small local model for one post, field by
    field, in plain chat (see the module docstring).

    Example:
        .. code-block:: python

            writer = ProseWriter(load_local_model("smollm2", settings), settings, role="main")
            result = writer.chain.invoke(ChunkRequest("main", [3], context))
            result.plans[0].script   # 'Did you know an AI agent can answer ...'
    """

    grammar_days_per_call = 1
    grounded = False  # given a mentor's example, a small model copies it

    def __init__(self, model: BaseChatModel, settings: Settings, **kwargs: Any) -> None:
        super().__init__(model, settings, **kwargs)
        self.prose = ProsePrompts.load()

    def content_rules(self) -> ContentRules:
        """The settings' rules; scripts of :data:`PROSE_SCRIPT_WORDS` unless set."""
        return ContentRules.from_settings(self.settings, default_script=PROSE_SCRIPT_WORDS)

    def _choose_mode(self) -> OutputMode:
        return "prose"

    def starting_tokens_per_day(self) -> int:
        """A call's largest single reply: the script's (the fields are separate replies)."""
        return self.settings.tokens_per_day or self.field_cap("script")

    # ------------------------------------------------------------------ questions
    def field_cap(self, name: str) -> int:
        """A field's reply cap in tokens: the script's is two tokens a word of its cap."""
        return 2 * self.rules.script_words[1] + 20 if name == "script" else FIELD_TOKENS[name]

    def topic(self, request: ChunkRequest) -> str:
        """What the post is about: the trend or special date its outline line uses, else
        its special date, else one of the trends (in turn), else the niche.

        Not the outline's title: a small model's outline titles under the grammar are
        often not words ("Ben Benjy 95th 2016"), and a script about one is not either;
        the script's own title is asked for instead."""
        number = request.days[0]
        line = next((o for o in request.outline if o.day == number), None)
        if line is not None and line.uses:
            return line.uses
        ctx = request.context
        day = ctx.schedule.post(number).date
        special = next((s for s in ctx.special_dates if s.date == day), None)
        if special is not None:
            return special.name
        if ctx.trends:
            return ctx.trends[(number - 1) % len(ctx.trends)]
        return ctx.niche

    def avoid(self, request: ChunkRequest, name: str) -> str:
        """Why this field's last version was not kept (a re-ask), as a short clause."""
        said = request.feedback.get(request.days[0], [])
        if name == "keywords":
            reasons = [r for r in said if "hashtag" in r]
        else:
            reasons = [r for r in said if r.lower().startswith((name, name.replace("_", " ")))]
        return f" (Not like last time: {reasons[0]}.)" if reasons else ""

    def question(
        self, request: ChunkRequest, name: str, script: str = "", *, platform: str = ""
    ) -> list[BaseMessage]:
        """The messages that ask for one field (``script``: the post's, for the title
        and captions; ``platform``: a copy's platform key)."""
        values = {
            "topic": self.topic(request),
            "niche": request.context.niche,
            "platform": PLATFORMS[platform].name if platform else request.context.platform,
            "words": PROSE_SCRIPT_TARGET,
            "max_words": self.rules.hook_max_words,
            "script": script[:_EXCERPT_CHARS] or "(the script)",
            "avoid": self.avoid(request, name),
        }
        template = self.prose.copy_caption if platform else self.prose.fields[name]
        return [SystemMessage(self.prose.system), HumanMessage(template.format(**values))]

    def questions(self, request: ChunkRequest) -> list[list[BaseMessage]]:
        """Every question of a call, its script excerpt at full length (for counting)."""
        longest = "word " * (_EXCERPT_CHARS // 5)
        asked = [
            self.question(replace(request, days=[n]), name, longest)
            for n in request.days
            for name in self.prose.fields
        ]
        return asked + [
            self.question(request, "caption", longest, platform=k) for k in request.copies
        ]

    # ------------------------------------------------------------------ budget
    def render_messages(self, request: ChunkRequest) -> list[BaseMessage]:
        """The script's question (the call's first; each field has its own)."""
        return self.question(request, "script")

    def prompt_tokens(self, request: ChunkRequest) -> int:
        """Tokens of the call's largest question: the one the window must hold."""
        return max(self.counter.count_messages(m) for m in self.questions(request))

    def _bind_max_tokens(self, request: ChunkRequest) -> ChunkRequest:
        prompt_tokens = self.prompt_tokens(request)
        budget = self.budget_for(request)
        budget.check(prompt_tokens)
        max_tokens = min(self.field_cap("script"), budget.output_cap(prompt_tokens))
        return replace(request, prompt_tokens=prompt_tokens, max_tokens=max_tokens)

    # ------------------------------------------------------------------ the call
    def _ask(self, messages: list[BaseMessage], cap: int, request: ChunkRequest, config: Any):
        """One question, its ``max_tokens`` within what its own prompt leaves (a script
        excerpt may count more than the planned one)."""
        room = self.budget_for(request).output_cap(self.counter.count_messages(messages))
        limit = self.output_limit(replace(request, max_tokens=min(cap, request.max_tokens, room)))
        bound = self.model.bind(**limit)
        return call_with_retries(
            lambda: bound.invoke(messages, config),
            max_retries=self.settings.max_retries,
            describe=f"{self.role} call for {request.context.schedule.short_label(request.days)}",
        )

    def _call(self, request: ChunkRequest, config: RunnableConfig) -> tuple[ChunkRequest, Any]:
        """Ask each field in turn (script first); a field whose answer misses its own rule
        is asked again, up to :data:`FIELD_TRIES` times. Raises as :meth:`DayWriter._call`."""
        started = time.perf_counter()
        answers = Answers({})
        for number in request.days:  # one post a call as the engine plans it
            post = replace(request, days=[number])
            fields: dict[str, Any] = {}
            for name in self.prose.fields:
                script = fields.get("script", "")
                fields[name] = self._field(post, name, script, answers, config)
            self.fill_in(post, fields)
            for key in request.copies:
                caption = self._field(
                    post, "caption", fields["script"], answers, config, platform=key
                )
                copy: dict[str, Any] = {"caption": caption, "hashtags": fields["keywords"]}
                if PLATFORMS[key].has_title:
                    copy["title"] = fields["title"]
                fields.setdefault("copies", {})[key] = copy
            answers.posts[number] = fields
        return request, (answers, time.perf_counter() - started)

    def _field(
        self,
        request: ChunkRequest,
        name: str,
        script: str,
        answers: Answers,
        config: Any,
        *,
        platform: str = "",
    ) -> Any:
        messages = self.question(request, name, script, platform=platform)
        # the question's own words, without the topic: an answer may name the topic
        asked = str(self.question(request, name, platform=platform)[-1].content)
        asked = asked.replace(self.topic(request), " ")
        cap = self.field_cap(name)
        value: Any = ""
        for _ in range(FIELD_TRIES):
            message: AIMessage = self._ask(messages, cap, request, config)
            usage = message.usage_metadata or {}
            reply = usage.get("output_tokens") or self.counter.count(str(message.content))
            answers.input_tokens += usage.get("input_tokens") or self.counter.count_messages(
                messages
            )
            answers.output_tokens += reply
            answers.longest_reply = max(answers.longest_reply, reply)
            answers.finish = finish_reason(message)
            value = self.read_field(name, str(message.content), request)
            if self.field_ok(name, value, request) and not echoes(value, asked):
                break
        return value

    def fill_in(self, request: ChunkRequest, fields: dict[str, Any]) -> None:
        """What a small model still missed after its tries, from the post's own words:
        hashtags up to the rules' least from the post's topic, the trends and the niche's
        words (the user's words), a hook too long by the title when that fits."""
        least, most = self.rules_for(request).hashtags
        tags = fields["keywords"]
        ctx = request.context
        niche_words = re.findall(r"[A-Za-z]{4,}", ctx.niche)
        for extra in keyword_hashtags(
            "\n".join([self.topic(request), *ctx.trends, *niche_words]), limit=2 * most
        ):
            if len(tags) >= least:
                break
            if extra not in tags:
                tags.append(extra)
        most_words = self.rules.hook_max_words
        title = short_title(fields["title"], most_words)
        if words(fields["hook"]) > most_words and 0 < words(title) <= most_words:
            fields["hook"] = title

    def read_field(self, name: str, text: str, request: ChunkRequest) -> Any:
        """One answer, cleaned, as the field's value."""
        if name == "keywords":
            return keyword_hashtags(text, limit=self.rules_for(request).hashtags[1])
        if name == "title":
            return short_title(one_line(text), TITLE_MAX_WORDS)
        if name == "hook":
            return short_title(one_line(text), self.rules.hook_max_words)
        if name == "engagement":
            return first_question(text)
        if name == "audio":
            return whole_sentences(one_line(text))
        cleaned = spoken_text(text)
        if name == "script":
            return within_words(cleaned, self.rules.script_words[1])
        return whole_sentences(cleaned)

    def field_ok(self, name: str, value: Any, request: ChunkRequest) -> bool:
        """A field's own rule, checked before the post is: asked again when it fails."""
        rules = self.rules_for(request)
        if name == "keywords":
            return len(value) >= rules.hashtags[0]
        if not value or not re.search(r"\w", value):
            return False
        if name == "script":
            return rules.script_words[0] <= words(value) <= rules.script_words[1]
        if name == "hook":
            return words(value) <= rules.hook_max_words
        if name == "title":
            return words(value) <= TITLE_MAX_WORDS
        if name == "engagement":  # a question to ask viewers
            return value.endswith("?")
        return True

    # ------------------------------------------------------------------ the post
    def _parse(self, called: tuple[ChunkRequest, tuple[Answers, float]]) -> ChunkResult:
        request, (answers, seconds) = called
        rows = [
            {"day": number, "hashtags": fields.get("keywords", []), **fields}
            for number, fields in answers.posts.items()
        ]
        for row in rows:
            row.pop("keywords", None)
        parsed: ParseResult = parse_day_plans(
            {"days": rows},
            schedule=request.context.schedule,
            requested_days=request.days,
            finish_reason="stop",
            copies=request.copies,
        )
        usage = self.usage_record(
            request,
            input_tokens=answers.input_tokens,
            output_tokens=answers.output_tokens,
            finish_reason=answers.finish if not parsed.plans else "stop",
            days_parsed=len(parsed.plans),
            rows_rejected=len(parsed.rejected),
            seconds=round(seconds, 2),
        )
        return ChunkResult(
            request, parsed.plans, usage, parse=parsed, reply_tokens=answers.longest_reply
        )


def echoes(value: Any, question: str, run: int = ECHO_RUN_WORDS) -> bool:
    """Whether an answer repeats ``run`` words of its own question (a small model that
    answers "What's a question that makes people watch a video about X?" with that)."""
    text = " ".join(value) if isinstance(value, list) else str(value)
    return copied_run(text, question, run) is not None


def day_writer(
    model: BaseChatModel, settings: Settings, *, role: Any, library: Any = None
) -> DayWriter:
    """The writer of posts for ``model``: a :class:`ProseWriter` for a small local GGUF
    (:func:`writes_prose`), else a :class:`DayWriter`."""
    cls = ProseWriter if writes_prose(model, settings) else DayWriter
    return cls(model, settings, role=role, library=library)
