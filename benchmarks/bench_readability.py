"""Readability of a month written by the bundled local model, beside the same model chatting.

A month on the bundled SmolLM2-135M GGUF (``llamacpp:smollm2``, default settings) is written
with ``generate_calendar`` and timed, or an existing calendar is read (``--calendar``). Its
kept scripts (``DayPlan.script``) are scored three ways:

- perplexity: each script's per-token perplexity under the same model with no prompt and
  no grammar (BOS + the script's tokens; exp of the mean negative log-likelihood of every
  token after BOS). A readable sentence scores about 20, word salad about 900. Median over
  scripts, with min and max;
- distinct-2: distinct word bigrams over all word bigrams (lowercased ``[\\w']+`` words),
  month-wide (the scripts pooled, no bigram across two scripts) and the median per script;
- hashtags that are words: the share of the calendar's hashtags (primary ``hashtags``)
  whose body, split at camelCase, digits and underscores, segments fully into English
  words (``wordfreq`` Zipf >= 3, at least two letters; "a", "i" and digit runs allowed).

The baseline ("free chat") is the same model answering, for each day of the month, a
short chat request for that day's reel script (no grammar, no reelcal prompt). The
request depends only on the day (date, niche, trends, special date), never on what the
calendar wrote, so every calendar is compared with the same answers. Answers are scored
the same three ways (their hashtags are the ``#\\w+`` they hold, often none). The summary
gives the ratio of median perplexities, reelcal / free chat (the bar: at most 1.5x), and
prints ten sample rows of each.

Not part of the test suite. Run from the repo root::

    .venv/bin/python benchmarks/bench_readability.py               # 6-12 minutes
    .venv/bin/python benchmarks/bench_readability.py --calendar feb.json --json figures.json
"""

from __future__ import annotations

import argparse
import datetime as dt
import functools
import itertools
import json
import math
import os
import re
import statistics
import sys
import time
from collections.abc import Sequence
from pathlib import Path
from typing import Any

ROOT = Path(__file__).resolve().parents[1]
sys.path[:0] = [str(ROOT)]
os.environ.setdefault("OMP_WAIT_POLICY", "PASSIVE")  # as llama_contexts.load_llama sets it

NICHE = "AI tools for creators"
TRENDS = ("AI agents", "automation")
SYSTEM = "You are a helpful assistant."
REQUEST = (
    "Write the spoken script of a 30-second Instagram reel for an account about {niche}, "
    "for {date}{special}. Trends: {trends}. About 60 words, start with a hook, end with a "
    "call to action."
)
SEED = 1234
PERPLEXITY_BAR = 1.5
MAX_TOKENS = 2000  # of a text scored for perplexity (the window is 2,048)

# ------------------------------------------------------------------ pure metrics
WORD = re.compile(r"[\w']+")
HASHTAG = re.compile(r"#\w+")
# Runs of a hashtag body: "AIAgents2026_tips" -> AI, Agents, 2026, tips
RUN = re.compile(r"\d+|[A-Z]+(?=[A-Z][a-z])|[A-Z]?[^\W\d_A-Z]+|[A-Z]+")
ZIPF_MIN = 3.0
LONGEST_WORD = 24


def words(text: str) -> list[str]:
    return WORD.findall(text.lower())


def bigrams(text: str) -> list[tuple[str, str]]:
    w = words(text)
    return list(itertools.pairwise(w))


def distinct_2(texts: str | Sequence[str]) -> float | None:
    """Distinct word bigrams / all word bigrams of ``texts`` pooled (a bigram never spans
    two texts); None when there is no bigram."""
    pairs = [p for t in ([texts] if isinstance(texts, str) else texts) for p in bigrams(t)]
    return len(set(pairs)) / len(pairs) if pairs else None


@functools.cache
def is_word(w: str) -> bool:
    """A known English word: digits, "a", "i", or 2+ letters with Zipf frequency >= 3."""
    from wordfreq import zipf_frequency

    if w.isdigit() or w in {"a", "i"}:
        return True
    return len(w) >= 2 and zipf_frequency(w, "en") >= ZIPF_MIN


def segment(run: str) -> list[str] | None:
    """``run`` (lowercased) as the fewest known words (ties: the most frequent), or None."""
    run = run.lower()
    best: list[list[str] | None] = [[]] + [None] * len(run)
    for end in range(1, len(run) + 1):
        for start in range(max(0, end - LONGEST_WORD), end):
            head, piece = best[start], run[start:end]
            if head is None or not is_word(piece):
                continue
            candidate = [*head, piece]
            current = best[end]
            if current is None or len(candidate) < len(current):
                best[end] = candidate
    return best[len(run)]


def split_runs(body: str) -> list[str]:
    """A hashtag body split at camelCase, digits and underscores (``_`` drops out)."""
    return RUN.findall(body)


def hashtag_words(tag: str) -> list[str] | None:
    """The words a hashtag is made of, or None when some part is not English words."""
    body = tag.lstrip("#")
    runs = split_runs(body)
    if not runs or "".join(runs) != body.replace("_", ""):  # a part no run covers
        return None
    found: list[str] = []
    for run in runs:
        part = segment(run)
        if part is None:
            return None
        found += part
    return found


def hashtag_is_words(tag: str) -> bool:
    return hashtag_words(tag) is not None


# ------------------------------------------------------------------ the model
@functools.lru_cache(maxsize=1)
def scoring_model() -> Any:
    from llama_cpp import Llama

    from pipeline.models.local import bundled_gguf_path

    path = str(bundled_gguf_path())
    return Llama(model_path=path, n_ctx=2048, logits_all=True, n_threads=2, verbose=False)


def perplexity(text: str, llm: Any = None) -> float:
    """Per-token perplexity of ``text`` (BOS + its tokens, no prompt, no grammar)."""
    import numpy as np

    llm = llm or scoring_model()
    tokens = llm.tokenize(text.encode(), add_bos=True)[:MAX_TOKENS]
    if len(tokens) < 2:
        return float("nan")
    llm.reset()
    llm.eval(tokens)
    logits = np.array(llm.scores[: len(tokens)], dtype=np.float64)
    logits -= logits.max(axis=1, keepdims=True)
    logp = logits - np.log(np.exp(logits).sum(axis=1, keepdims=True))
    nll = -logp[np.arange(len(tokens) - 1), tokens[1:]]
    return float(np.exp(nll.mean()))


def score(texts: list[str], tags: list[str]) -> dict[str, Any]:
    """The three figures for ``texts`` (scripts or answers) and their hashtags ``tags``."""
    ppl = [perplexity(t) for t in texts]
    ppl_ok = [p for p in ppl if not math.isnan(p)]
    per_text = [d for d in (distinct_2(t) for t in texts) if d is not None]
    word_tags = [t for t in tags if hashtag_is_words(t)]
    return {
        "texts": len(texts),
        "perplexity": ppl,
        "perplexity_median": statistics.median(ppl_ok) if ppl_ok else None,
        "perplexity_min": min(ppl_ok, default=None),
        "perplexity_max": max(ppl_ok, default=None),
        "distinct_2_month": distinct_2(texts),
        "distinct_2_per_text_median": statistics.median(per_text) if per_text else None,
        "hashtags": len(tags),
        "hashtags_words": len(word_tags),
        "hashtags_not_words": sorted({t for t in tags if t not in word_tags}),
    }


# ------------------------------------------------------------------ the month
def run_month(month: str, trends: list[str], niche: str, out: Path) -> tuple[Any, dict]:
    """Write the month on the bundled model with default settings; the calendar (partial
    when the run is incomplete) and what the run took."""
    from pipeline.errors import IncompleteCalendarError
    from pipeline.generation.chains import generate_calendar

    started = time.perf_counter()
    incomplete = None
    try:
        cal = generate_calendar(month, trends, niche, model="llamacpp:smollm2")
    except IncompleteCalendarError as exc:
        cal, incomplete = exc.calendar, {"reason": exc.reason, "message": str(exc)}
    seconds = time.perf_counter() - started
    cal.save(out)
    usage = cal.usage
    run = {
        "wall_seconds": round(seconds, 1),
        "calls": len(usage),
        "calls_cached": sum(u.cached for u in usage),
        "calls_failed": sum(u.error is not None for u in usage),
        "calls_by_role": {r: sum(u.role == r for u in usage) for r in {u.role for u in usage}},
        "rows_rejected": sum(u.rows_rejected for u in usage),
        "output_tokens": sum(u.output_tokens or 0 for u in usage),
        "incomplete": incomplete,
        "saved_to": str(out),
    }
    return cal, run


def month_days(cal: Any, trends: list[str], niche: str) -> list[dict[str, Any]]:
    """Each day of the calendar's month: date, niche, trends and special date (if any)."""
    import calendar as calmod

    from pipeline.config import Settings
    from pipeline.dates import parse_month, special_dates

    settings = Settings()
    spec = parse_month(f"{calmod.month_name[cal.month]} {cal.year}")
    found: dict[dt.date, list[str]] = {}
    for s in special_dates(
        spec,
        country=settings.country,
        subdivision=settings.subdivision,
        awareness_file=settings.awareness_file,
    ):
        found.setdefault(s.date, []).append(s.name)
    last = calmod.monthrange(cal.year, cal.month)[1]
    dates = [dt.date(cal.year, cal.month, d) for d in range(1, last + 1)]
    return [
        {"date": d, "niche": niche, "trends": trends, "special": ", ".join(found.get(d, []))}
        for d in dates
    ]


def chat_request(day: dict[str, Any]) -> str:
    d = day["date"]
    special = f" (special date: {day['special']})" if day["special"] else ""
    return REQUEST.format(
        niche=day["niche"],
        date=f"{d:%A} {d.day} {d:%B %Y}",
        special=special,
        trends=", ".join(day["trends"]) or "none",
    )


def free_chat(days: list[dict[str, Any]]) -> tuple[list[dict[str, Any]], float]:
    """The same model's plain chat answer for each day, and the seconds they took."""
    from llama_cpp import Llama

    from pipeline.models.local import bundled_gguf_path

    llm = Llama(
        model_path=str(bundled_gguf_path()),
        n_ctx=2048,
        n_threads=1,
        n_threads_batch=2,
        seed=SEED,
        verbose=False,
    )
    answers = []
    started = time.perf_counter()
    for day in days:
        request = chat_request(day)
        reply = llm.create_chat_completion(
            messages=[{"role": "system", "content": SYSTEM}, {"role": "user", "content": request}],
            temperature=0.6,
            repeat_penalty=1.15,
            max_tokens=200,
            seed=SEED,
        )
        text = (reply["choices"][0]["message"]["content"] or "").strip()
        answers.append({"day": day["date"].day, "request": request, "answer": text})
    return answers, time.perf_counter() - started


# ------------------------------------------------------------------ printing
def cell(text: Any, limit: int | None = None) -> str:
    text = " ".join(str(text).split())
    if limit is not None:
        cut = text.split()
        text = " ".join(cut[:limit]) + (" ..." if len(cut) > limit else "")
    return text.replace("|", "\\|")


def spread(items: list[Any], n: int) -> list[Any]:
    """``n`` items spread evenly over ``items`` (first and last included)."""
    if len(items) <= n:
        return list(items)
    return [items[round(i * (len(items) - 1) / (n - 1))] for i in range(n)] if n > 1 else items[:1]


def table(header: list[str], rows: list[list[Any]]) -> str:
    lines = ["| " + " | ".join(header) + " |", "|" + "---|" * len(header)]
    lines += ["| " + " | ".join(str(c) for c in row) + " |" for row in rows]
    return "\n".join(lines)


def summary_row(label: str, s: dict[str, Any]) -> list[str]:
    def f(x: float | None, spec: str) -> str:
        return "-" if x is None else format(x, spec)

    ppl = f"{f(s['perplexity_median'], '.1f')} ({f(s['perplexity_min'], '.1f')}-"
    ppl += f"{f(s['perplexity_max'], '.1f')})"
    d2 = f"{f(s['distinct_2_month'], '.3f')} / {f(s['distinct_2_per_text_median'], '.3f')}"
    share = s["hashtags_words"] / s["hashtags"] if s["hashtags"] else None
    tags = f"{s['hashtags_words']}/{s['hashtags']}" + (
        f" ({share:.0%})" if share is not None else ""
    )
    return [label, str(s["texts"]), ppl, d2, tags]


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--calendar", type=Path, help="score this calendar (.json/.csv/.xlsx)")
    parser.add_argument("--out", type=Path, default=Path("/tmp/readability-calendar.json"))
    parser.add_argument("--month", default="February 2026")
    parser.add_argument("--niche", default=NICHE)
    parser.add_argument("--trend", action="append", dest="trends", help=f"default {TRENDS}")
    parser.add_argument("--json", type=Path, help="write every figure here")
    parser.add_argument("--no-baseline", action="store_true", help="skip the free chat answers")
    parser.add_argument("--samples", type=int, default=10)
    parser.add_argument("--label", default="reelcal (default settings)", help="its row's name")
    args = parser.parse_args()
    trends = args.trends or list(TRENDS)

    from pipeline.calendar import Calendar

    run: dict[str, Any] | None = None
    if args.calendar:
        cal = Calendar.load(args.calendar)
        niche, trends = cal.niche or args.niche, cal.trends or trends
    else:
        print(f"writing {args.month} on llamacpp:smollm2 ...", file=sys.stderr, flush=True)
        cal, run = run_month(args.month, trends, args.niche, args.out)
        niche = args.niche
    kept = [d for d in cal.days if d.script.strip()]
    asked = cal.post_count
    print(f"{cal.span_name}: {len(kept)} of {asked} days kept; model {cal.model or '?'}")
    if cal.missing_days:
        print(f"missing days: {cal.missing_days}")
    if run:
        print(
            f"wall time {run['wall_seconds']:.0f} s; {run['calls']} calls "
            f"({run['calls_failed']} failed, {run['calls_cached']} cached; by role "
            f"{run['calls_by_role']}); {run['rows_rejected']} rows rejected"
            + (f"; INCOMPLETE ({run['incomplete']['reason']})" if run["incomplete"] else "")
        )
        print(f"calendar saved to {run['saved_to']}")

    tags = [t for d in kept for t in d.hashtags]
    ours = score([d.script for d in kept], tags)
    figures: dict[str, Any] = {
        "label": args.label,
        "calendar": str(args.calendar or args.out),
        "month": cal.span_name,
        "model": cal.model,
        "niche": niche,
        "trends": trends,
        "days_kept": len(kept),
        "days_asked": asked,
        "missing_days": cal.missing_days,
        "run": run,
        "reelcal": ours | {"days": [d.day for d in kept]},
    }
    baseline = None
    if not args.no_baseline:
        print("free chat answers ...", file=sys.stderr, flush=True)
        days = month_days(cal, trends, niche)
        answers, seconds = free_chat(days)
        texts = [a["answer"] for a in answers]
        found = [t for a in texts for t in HASHTAG.findall(a)]
        baseline = score(texts, found)
        figures["free_chat"] = baseline | {
            "seconds": round(seconds, 1),
            "answers_with_hashtags": sum(bool(HASHTAG.search(a)) for a in texts),
            "system": SYSTEM,
            "answers": answers,
        }
        figures["free_chat"]["special_dates"] = {
            str(d["date"]): d["special"] for d in days if d["special"]
        }

    header = ["", "scripts", "median perplexity (min-max)", "distinct-2 month / per-script"]
    rows = [summary_row(args.label, ours)]
    if baseline:
        rows.append(summary_row("free chat", baseline))
    print()
    print(table([*header, "hashtags that are words"], rows))
    if baseline and ours["perplexity_median"] and baseline["perplexity_median"]:
        ratio = ours["perplexity_median"] / baseline["perplexity_median"]
        figures["perplexity_ratio"] = ratio
        verdict = "meets" if ratio <= PERPLEXITY_BAR else "misses"
        print(
            f"\nmedian perplexity ratio, reelcal / free chat: {ratio:.2f}x "
            f"(bar <= {PERPLEXITY_BAR}x: {verdict}); distinct-2 bar >= 0.6"
        )
        print(
            f"free chat: {figures['free_chat']['answers_with_hashtags']} of {len(texts)} "
            f"answers hold hashtags; answers took {seconds:.0f} s"
        )

    print(f"\n### {args.label}: {args.samples} sample rows\n")
    sample_rows = [
        [d.day, cell(d.title), cell(d.hook), cell(d.script, 40), cell(" ".join(d.hashtags))]
        for d in spread(kept, args.samples)
    ]
    print(table(["day", "title", "hook", "script (first 40 words)", "hashtags"], sample_rows))
    figures["reelcal"]["samples"] = sample_rows
    if baseline:
        print(f"\n### free chat: {args.samples} sample answers\n")
        chosen = spread(figures["free_chat"]["answers"], args.samples)
        chat_rows = [[a["day"], cell(a["answer"], 40)] for a in chosen]
        print(table(["day", "answer (first 40 words)"], chat_rows))
        figures["free_chat"]["samples"] = chat_rows
    if args.json:
        args.json.write_text(json.dumps(figures, indent=2, default=str) + "\n")
        print(f"\nfigures written to {args.json}")


if __name__ == "__main__":
    main()
