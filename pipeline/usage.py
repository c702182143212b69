"""The record of how a plan was made: one :class:`UsageRecord` per model call (what it
asked for and got back), the :class:`RuleBreakNote` s of its rows, the call roles, and
:func:`days_label`, how every prompt, log line and usage summary names days.
:mod:`pipeline.plans` re-exports them.
"""

from __future__ import annotations

import re
from collections.abc import Callable, Sequence
from typing import Any, Literal

from pydantic import BaseModel, ConfigDict, Field, field_validator
from typing_extensions import TypedDict

#: Column titles of a usage table (notebook display, Markdown export), for
#: :meth:`UsageRecord.table_cells`.
USAGE_TABLE_TITLES: tuple[str, ...] = (
    "Role",
    "Model",
    "Days",
    "Prompt tokens",
    "max_tokens",
    "Input",
    "Output",
    "Finish",
    "Days parsed",
    "Error",
)

#: The step a model call served: the first round ("main"), a rerun for missing days
#: ("supplement"), a month outline ("outline"), or a re-ask of a post's platform copies
#: ("copies").
Role = Literal["main", "supplement", "outline", "copies"]
#: The roles that write days (a writer each: main for days never asked for, supplement
#: for days asked for and still missing).
WriterRole = Literal["main", "supplement"]


class RuleBreakNote(TypedDict):
    """A content rule a row of a call broke: its day, why, and whether the row was kept
    anyway (a soft break, flagged, with ``strict: false``)."""

    day: int
    reason: str
    kept: bool


_RULE_BREAK_TEXT = re.compile(r"^\s*Day (\d+)( \(kept\))?: (.*)$", re.DOTALL)


def rule_break_text(note: RuleBreakNote) -> str:
    """A note as one line of text: "Day 5: why", or "Day 5 (kept): why"."""
    return f"Day {note['day']}{' (kept)' if note['kept'] else ''}: {note['reason']}"


def rule_break_from_text(text: str) -> RuleBreakNote:
    """A note read back from :func:`rule_break_text`'s line (an .xlsx cell, or JSON
    written before breaks were structured); raises ValueError on any other text."""
    match = _RULE_BREAK_TEXT.match(text)
    if not match:
        raise ValueError(f"{text[:60]!r} is not a rule break ('Day N: why')")
    return {"day": int(match[1]), "reason": match[3].strip(), "kept": bool(match[2])}


def days_label(days: Sequence[int]) -> str:
    """``[12]`` -> "Day 12"; ``[10..18]`` -> "Day 10 to Day 18"; else "Day 3, Day 7 and
    Day 12". How every prompt, log line and usage summary names days."""
    days = sorted(days)
    if not days:
        return "no days"
    if len(days) == 1:
        return f"Day {days[0]}"
    if days == list(range(days[0], days[-1] + 1)):
        return f"Day {days[0]} to Day {days[-1]}"
    named = [f"Day {d}" for d in days]
    return ", ".join(named[:-1]) + " and " + named[-1]


class UsageRecord(BaseModel):
    """What one model call asked for and got back."""

    model_config = ConfigDict(extra="forbid")

    role: Role
    model: str
    days_requested: list[int]
    prompt_tokens: int = Field(ge=0, description="Counted by reelcal before the call.")
    max_tokens: int = Field(ge=0)
    input_tokens: int | None = Field(default=None, description="As reported by the model.")
    output_tokens: int | None = Field(default=None, description="As reported by the model.")
    reasoning_tokens: int | None = Field(
        default=None, description="Hidden reasoning tokens inside output_tokens, as reported."
    )
    finish_reason: str | None = None
    days_parsed: int = 0
    rows_rejected: int = 0
    round: int = 0
    seconds: float | None = None
    error: str | None = None
    cached: bool = Field(
        default=False, description="Answered from the response cache (``cache``): not paid."
    )
    rule_breaks: list[RuleBreakNote] = Field(
        default_factory=list,
        description="Content rules the call's rows broke: {day: 5, reason: 'hook has 12 "
        "words: at most 8', kept: false} (not kept, so asked again); kept: true when strict "
        "is off and the break is soft.",
    )

    @field_validator("rule_breaks", mode="before")
    @classmethod
    def _notes_from_text(cls, value: Any) -> Any:
        """Files written before breaks were structured hold "Day 5: why" lines (and an
        .xlsx cell holds the same text): read them as notes."""
        if not isinstance(value, list):
            return value
        return [rule_break_from_text(v) if isinstance(v, str) else v for v in value]

    posts_requested: list[str] = Field(
        default_factory=list,
        description="Keys (local date-times) of the posts asked for, in the order of "
        "days_requested (empty in files written before posts had keys).",
    )

    def table_cells(self, label: Callable[[Sequence[int]], str] = days_label) -> list[Any]:
        """This call as a row of a usage table (see :data:`USAGE_TABLE_TITLES`); ``label``
        names its posts (a schedule's ``short_label``: "Post 1 to Post 7")."""
        return [
            self.role,
            self.model,
            label(self.days_requested),
            self.prompt_tokens,
            self.max_tokens,
            self.input_tokens,
            self.output_tokens,
            self.finish_reason or "",
            f"{self.days_parsed}/{len(self.days_requested)}",
            self.error or "",
        ]

    def summary(self, label: Callable[[Sequence[int]], str] = days_label, noun: str = "day") -> str:
        """A one-line summary like the seed's ``3,010 input + 4,000 output`` (``label`` and
        ``noun`` name the posts: "Post 1 to Post 7", "post")."""
        days = label(self.days_requested)
        used_in = self.input_tokens if self.input_tokens is not None else self.prompt_tokens
        out = f"{self.output_tokens:,}" if self.output_tokens is not None else "?"
        tail = f"; error: {self.error}" if self.error else ""
        cached = " from the cache (not paid)" if self.cached else ""
        dropped = {b["day"] for b in self.rule_breaks if not b["kept"]}
        if dropped:
            tail = f"; {len(dropped)} not kept by the content rules{tail}"
        return (
            f"{self.role} call{cached} ({self.model}) {days}: {used_in:,} input + {out} output "
            f"(max_tokens {self.max_tokens:,}, finish {self.finish_reason or '?'}), "
            f"{self.days_parsed}/{len(self.days_requested)} {noun}s parsed{tail}"
        )
