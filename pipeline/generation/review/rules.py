"""Content rules: what a written day must satisfy to be kept, checked on every row.

The prompts state the rules (:meth:`ContentRules.prompt_text`) and the local model's
grammar is derived from them (:meth:`ContentRules.grammar_words`); this module checks them
on what came back. A day that breaks a rule is not kept: the engine asks for it again,
with the reasons in the prompt (as instructor feeds validation errors back), bounded by the
engine's stall rule. With ``strict: false`` a day that breaks only soft rules is kept and
flagged in the usage record.

============================  ====  =====================================================
rule                          hard  why
============================  ====  =====================================================
no field empty or only        yes   a blank cell is not a plan
punctuation
script not copied from an     yes   no run of ``copied_run_words`` (12) words shared with
example transcript                  the retrieved examples the call was given
hook at most                  no    cover text is read in a second
``hook_max_words`` (8)
script within                 no    120-250 spoken words for hosted models; the local
``script_words``                    model's grammar caps it lower (its own profile)
caption at most               no    Instagram cuts captions at 2,200 characters
``caption_max_chars``
3-30 hashtags, each ``#word`` no    what Instagram accepts
title unlike other days'      no    same text once case, punctuation and spaces are
                                    ignored; alike by meaning (embeddings' cosine at
                                    least ``title_similarity``) is checked after each
                                    round (:mod:`pipeline.generation.review.rows`)
============================  ====  =====================================================
"""

from __future__ import annotations

import re
from collections.abc import Iterable, Sequence
from dataclasses import dataclass, replace
from functools import lru_cache

from pipeline.calendar import CONTENT_FIELDS, DayPlan, RuleBreakNote
from pipeline.config import Settings
from pipeline.platforms import PLATFORMS, hashtag_cap

#: Script length of the local profile: the bundled 135M model under its grammar writes
#: short scripts (the grammar holds them to these bounds; longer ones make each call slower).
LOCAL_SCRIPT_WORDS = (5, 80)
HASHTAG = re.compile(r"#[^\s#]+")
_WORDS = re.compile(r"[\w']+")


@dataclass(frozen=True)
class RuleBreak:
    """One broken rule of one day: the message the model is shown, and whether it is hard
    (never kept) or soft (kept, flagged, when ``strict`` is off)."""

    day: int
    message: str
    hard: bool = False
    #: How far off a length rule the row is, as a share of the bound (0.05: 5% over);
    #: of two rows that broke soft rules the engine keeps the one nearer to them.
    off_by: float = 0.0

    def __str__(self) -> str:
        return self.message


@dataclass(frozen=True)
class ContentRules:
    """The content rules of a run, from :class:`~pipeline.config.Settings`."""

    hook_max_words: int = 8
    script_words: tuple[int, int] = (120, 250)
    caption_max_chars: int = 2200
    hashtags: tuple[int, int] = (3, 30)
    copied_run_words: int = 12
    strict: bool = True

    @classmethod
    def from_settings(
        cls,
        settings: Settings,
        *,
        local: bool = False,
        default_script: tuple[int, int] | None = None,
    ) -> ContentRules:
        """The rules of ``settings``; unset script words default to ``default_script``,
        else the local grammar's profile (``local``), else 120-250."""
        script = settings.script_words or default_script
        script = script or (LOCAL_SCRIPT_WORDS if local else (120, 250))
        return cls(
            hook_max_words=settings.hook_max_words,
            script_words=(script[0], script[1]),
            caption_max_chars=settings.caption_max_chars,
            strict=settings.strict,
        )

    def for_platform(self, key: str) -> ContentRules:
        """These rules within the primary platform's limits (its caption characters and
        hashtag count, :data:`~pipeline.platforms.PLATFORMS`): Instagram takes 5 hashtags."""
        platform = PLATFORMS[key]
        high = min(self.hashtags[1], platform.hashtag_max or self.hashtags[1])
        return replace(
            self,
            caption_max_chars=min(self.caption_max_chars, platform.caption_max_chars),
            hashtags=(min(self.hashtags[0], high), high),
        )

    def trimmed(self, plan: DayPlan) -> DayPlan:
        """``plan`` with its hashtags cut to the most these rules keep (and each copy's to
        its platform's): extra tags are mechanical to drop, unlike extra words, so a
        reel is not asked again for them."""
        copies = {
            key: copy.model_copy(update={"hashtags": copy.hashtags[: hashtag_cap(key)]})
            for key, copy in plan.copies.items()
        }
        return plan.model_copy(
            update={"hashtags": plan.hashtags[: self.hashtags[1]], "copies": copies}
        )

    def prompt_text(self) -> str:
        """The rules as the prompts state them."""
        low, high = self.script_words
        return (
            f"the hook (cover text) is at most {self.hook_max_words} words; scripts are "
            f"spoken word, {low}-{high} words, with a hook in the first sentence and a call "
            f"to action at the end; captions stay under {self.caption_max_chars:,} "
            f"characters; {self.hashtags[0]}-{min(self.hashtags[1], 8)} hashtags, each "
            f"#oneword; never copy the example transcripts"
        )

    def grammar_words(self) -> dict[str, int | tuple[int, int]]:
        """Word bounds of the local model's grammar, derived from these rules (so its rows
        meet the length rules by construction)."""
        return {"hook": self.hook_max_words, "script": self.script_words}

    def check(
        self,
        plan: DayPlan,
        *,
        other_titles: Iterable[str] = (),
        examples: str = "",
        number: int | None = None,
    ) -> list[RuleBreak]:
        """Every rule ``plan`` breaks (an empty list when it passes); ``number``: the post's
        number in its schedule (default: its day of the month)."""
        breaks: list[RuleBreak] = []

        def broke(message: str, *, hard: bool = False, off_by: float = 0.0) -> None:
            breaks.append(RuleBreak(number or plan.day, message, hard, off_by))

        for name in CONTENT_FIELDS:
            value = getattr(plan, name)
            text = " ".join(value) if isinstance(value, list) else str(value)
            if not _WORDS.search(text):
                broke(f"{name} is empty or only punctuation", hard=True)
        hook = len(plan.hook.split())  # words as a reader (and the grammar) counts them
        if hook > self.hook_max_words:
            broke(
                f"hook has {hook} words: at most {self.hook_max_words}",
                off_by=_off_by(hook, 0, self.hook_max_words),
            )
        low, high = self.script_words
        script = len(plan.script.split())
        if not low <= script <= high:
            broke(
                f"script has {script} words: write {low}-{high}", off_by=_off_by(script, low, high)
            )
        if len(plan.caption) > self.caption_max_chars:
            broke(
                f"caption has {len(plan.caption):,} characters: at most {self.caption_max_chars:,}",
                off_by=_off_by(len(plan.caption), 0, self.caption_max_chars),
            )
        tags = plan.hashtags
        if not self.hashtags[0] <= len(tags) <= self.hashtags[1]:
            broke(
                f"{len(tags)} hashtags: use {self.hashtags[0]}-{self.hashtags[1]}",
                off_by=_off_by(len(tags), *self.hashtags),
            )
        if any(not HASHTAG.fullmatch(tag) for tag in tags):
            broke("each hashtag is # and one word, no spaces")
        title = normalized(plan.title)
        if title and title in {normalized(t) for t in other_titles}:
            broke(f"title {plan.title!r} repeats another day's: pick a new idea")
        if examples and (run := copied_run(plan.script, examples, self.copied_run_words)):
            broke(f"script copies an example transcript ({run!r}...): write it anew", hard=True)
        return breaks

    def keeps(self, breaks: list[RuleBreak]) -> bool:
        """Whether a day with these breaks is kept (flagged when it broke soft rules)."""
        return not breaks or (not self.strict and not any(b.hard for b in breaks))

    def review(
        self,
        plans: list[DayPlan],
        *,
        taken_titles: Iterable[str] = (),
        examples: str = "",
        numbers: Sequence[int] | None = None,
    ) -> tuple[
        list[DayPlan],
        dict[int, list[str]],
        list[RuleBreakNote],
        list[tuple[DayPlan, list[RuleBreak]]],
    ]:
        """The plans these rules keep, the days they drop with why, every break as a
        note (``kept`` for a day kept with soft breaks when ``strict`` is off), and the dropped plans that broke only soft rules, with their breaks (the
        engine keeps the best of them when a day's re-asks stall). A kept plan's title is taken for the
        plans after it. ``numbers``: the plans' post numbers (default: their days), which
        key the drops and notes."""
        titles = list(taken_titles)
        kept, dropped, notes, soft = [], {}, [], []
        for plan, number in zip(plans, numbers or [p.day for p in plans], strict=True):
            found = self.check(plan, other_titles=titles, examples=examples, number=number)
            keep = self.keeps(found)
            notes += [RuleBreakNote(day=number, reason=b.message, kept=keep) for b in found]
            if keep:
                kept.append(plan)
                titles.append(plan.title)
            else:
                dropped[number] = [b.message for b in found]
                if not any(b.hard for b in found):
                    soft.append((plan, found))
        return kept, dropped, notes, soft


def _off_by(value: int, low: int, high: int) -> float:
    """How far ``value`` is outside ``[low, high]``, as a share of the bound it missed."""
    if value > high:
        return (value - high) / max(1, high)
    return (low - value) / max(1, low) if value < low else 0.0


def soft_score(breaks: Iterable[RuleBreak]) -> list[float]:
    """How bad a row that broke only soft rules is: ``[breaks, total off_by]`` (lower is
    better; compared as a list)."""
    found = list(breaks)
    return [len(found), round(sum(b.off_by for b in found), 4)]


def normalized(text: str) -> str:
    """Text compared for sameness: case, punctuation and spacing ignored."""
    return " ".join(_WORDS.findall(text.casefold()))


def copied_run(script: str, examples: str, words: int) -> str | None:
    """The first run of ``words`` words of ``script`` that also appears in ``examples``
    (both lower-cased, punctuation ignored), or None."""
    mine = _WORDS.findall(script.casefold())
    seen = _shingles(examples, words)
    for i in range(len(mine) - words + 1):
        run = " ".join(mine[i : i + words])
        if run in seen:
            return " ".join(mine[i : i + 5])
    return None


@lru_cache(maxsize=8)
def _shingles(text: str, words: int) -> frozenset[str]:
    tokens = _WORDS.findall(text.casefold())
    return frozenset(" ".join(tokens[i : i + words]) for i in range(len(tokens) - words + 1))
