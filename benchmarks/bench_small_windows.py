"""Months on small windows with models that misbehave as real ones do: how many complete,
how many requests pass a limit, and the calls they take against the same months without
re-asks, side by side in one run.

The models are the test suite's scripted ones (``tests/scripted.py``: a forced tool call
or pipe rows), enforcing a 4,096- or 3,500-token window and a 1,024-token output cap with
their own tiktoken count (tool schema included). Their reels have real lengths (scripts of
140-230 words, about 400 tokens a day in a tool call); ``Misbehaviour`` makes a quarter of
the scripts overshoot 120-250 words by 1-15 words and 15% of the titles repeat another
day's. The settings are the defaults (the outline on, strict rules, ``max_reasks`` 1), the
shared examples the real size of the bundled index's (about 1,000 tokens).

The baseline is the same model writing the same rows under rules that accept every one of
them (``script_words`` 120-270, no repeated titles): the same month without re-asks.

Not part of the test suite. Run from the repo root::

    .venv/bin/python benchmarks/bench_small_windows.py --seeds 5     # about two minutes
"""

from __future__ import annotations

import argparse
import json
import logging
import statistics
import sys
import tempfile
import warnings
from pathlib import Path
from typing import Any

ROOT = Path(__file__).resolve().parents[1]
sys.path[:0] = [str(ROOT), str(ROOT / "tests")]
warnings.filterwarnings("ignore", category=DeprecationWarning)

from scripted import LONG_RETRIEVER, Misbehaviour, limited_model

from pipeline.config import Settings
from pipeline.errors import IncompleteCalendarError
from pipeline.generation.chains import generate_calendar
from pipeline.generation.review import titles
from pipeline.knowledge.embeddings import load_embeddings

MONTHS = ("2027-02", "2028-02", "2028-04", "2028-03")  # 28, 29, 30 and 31 days
WINDOWS = ((4096, 1024), (3500, 1024))


def one_month(
    month: str, window: int, cap: int, *, tools: bool, behaviour: Misbehaviour, words: tuple
) -> dict[str, Any]:
    model = limited_model(window, cap, tools=tools, behaviour=behaviour)
    settings = Settings(
        output_dir=tempfile.mkdtemp(), embeddings="fake:384", outline=True, script_words=words
    )
    try:
        cal = generate_calendar(
            month,
            ["AI agents", "automation"],
            "AI tools",
            model=model,
            settings=settings,
            retriever=LONG_RETRIEVER,
        )
        complete, usage, flagged = True, cal.usage, len([n for n in cal.notes if "kept" in n])
    except IncompleteCalendarError as exc:
        complete, usage, flagged = False, exc.calendar.usage, 0
    return {
        "complete": complete,
        "calls": len(usage),
        "outline_calls": len([u for u in usage if u.role == "outline"]),
        "violations": len(model.violations),
        "flagged_days": flagged,
    }


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.split("\n\n")[0])
    parser.add_argument("--seeds", type=int, default=5, help="misbehaviour seeds per month")
    parser.add_argument("--json", type=Path, help="write the figures here")
    args = parser.parse_args()
    logging.disable(logging.WARNING)
    # titles compared as the unit tests compare them (hash vectors: the same text alike)
    titles.title_embeddings = lambda settings: load_embeddings("fake:384")
    results = []
    for window, cap in WINDOWS:
        for tools in (True, False):
            rows = []
            for month in MONTHS:
                for seed in range(args.seeds):
                    run = one_month(
                        month,
                        window,
                        cap,
                        tools=tools,
                        behaviour=Misbehaviour(seed),
                        words=(120, 250),
                    )
                    base = one_month(
                        month,
                        window,
                        cap,
                        tools=tools,
                        behaviour=Misbehaviour(seed, repeat_titles=0),
                        words=(120, 270),
                    )
                    rows.append(
                        {**run, "month": month, "seed": seed, "baseline_calls": base["calls"]}
                    )
            ratios = [r["calls"] / r["baseline_calls"] for r in rows]
            summary = {
                "window": window,
                "output_cap": cap,
                "mode": "tools" if tools else "text",
                "months": len(rows),
                "complete": sum(r["complete"] for r in rows),
                "violations": sum(r["violations"] for r in rows),
                "calls_ratio_mean": round(statistics.mean(ratios), 2),
                "calls_ratio_median": round(statistics.median(ratios), 2),
                "calls_ratio_max": round(max(ratios), 2),
                "outline_calls_max": max(r["outline_calls"] for r in rows),
                "flagged_days_mean": round(statistics.mean(r["flagged_days"] for r in rows), 1),
            }
            results.append({**summary, "runs": rows})
            print(
                f"{window}/{cap} {summary['mode']:5}: {summary['complete']}/{summary['months']} "
                f"complete, {summary['violations']} requests over a limit, calls vs no re-asks "
                f"mean {summary['calls_ratio_mean']}x median {summary['calls_ratio_median']}x "
                f"max {summary['calls_ratio_max']}x, outline calls at most "
                f"{summary['outline_calls_max']}, {summary['flagged_days_mean']} days flagged",
                flush=True,
            )
    if args.json:
        args.json.write_text(json.dumps(results, indent=2), encoding="utf-8")


if __name__ == "__main__":
    main()
