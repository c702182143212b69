"""Wall time of a month by ``speed``, on a simulated hosted model, side by side in one run.

The model is the test suite's scripted tool-calling model (it enforces gpt-4o's limits,
128,000 / 16,384, counting tokens itself) made to take time like a hosted one: each call
waits ``latency`` seconds plus 400 tokens a reel (70 an outline line) at ``--rate``
tokens per second. At 80 tokens/s a 31-day single call takes 155 s, so the default rate
is 800 tokens/s (time scaled 10x): the ratios between plans are what is measured, and
reelcal's own overhead (counting, parsing, checkpoints) is not scaled, which only makes
the ratios worse.

The baseline is the single-call plan (``economical``, no outline: one call for the whole
month). Each speed then runs with the month outline (the default). Every plan is run
``--repeat`` times, interleaved; the median wall time, the calls, the most calls in
flight at once, whether any two titles are alike, and the output tokens of all calls
against the rows kept are printed and written as JSON (the scripted rows and lines are
shorter than real ones; the simulated lengths give the ratio at real lengths too).

Not part of the test suite. Run from the repo root::

    .venv/bin/python benchmarks/bench_speed.py                 # about a minute
    .venv/bin/python benchmarks/bench_speed.py --rate 80       # real time: slow
"""

from __future__ import annotations

import argparse
import json
import statistics
import sys
import tempfile
import time
import warnings
from pathlib import Path
from typing import Any

ROOT = Path(__file__).resolve().parents[1]
sys.path[:0] = [str(ROOT), str(ROOT / "tests")]
warnings.filterwarnings("ignore", category=DeprecationWarning)

from scripted import (
    FIXED_RETRIEVER,
    SCRIPTED_SCRIPT_WORDS,
    ScriptedToolModel,
    count_text,
    requested_days,
    row_dict,
)

from pipeline.config import Settings
from pipeline.generation.chains import generate_calendar
from pipeline.generation.review.rules import normalized

SPEEDS = ("economical", "balanced", "fast")
GPT_4O = (128_000, 16_384)


class TimedToolModel(ScriptedToolModel):
    """The scripted tool model, taking ``latency + days * tokens_per_day / rate`` seconds a
    call: the time a hosted model takes to write that many days (its rows here are short,
    about 110 tokens a day; a real reel is about 400)."""

    rate: float = 800.0
    latency: float = 0.05
    tokens_per_day: int = 400
    tokens_per_outline_line: int = 70
    simulated_output: int = 0
    in_flight: int = 0
    most_in_flight: int = 0

    def _generate(self, messages, stop=None, run_manager=None, **kwargs: Any):
        with self._lock:
            self.in_flight += 1
            self.most_in_flight = max(self.most_in_flight, self.in_flight)
        try:
            result = super()._generate(messages, stop, run_manager, **kwargs)
            days = len(requested_days(messages[-1].content))
            outline = kwargs["tools"][0]["function"]["name"] == "month_outline"
            tokens = days * (self.tokens_per_outline_line if outline else self.tokens_per_day)
            with self._lock:
                self.simulated_output += tokens
            time.sleep(self.latency + tokens / self.rate)
            return result
        finally:
            with self._lock:
                self.in_flight -= 1


def one_month(speed: str, rate: float, latency: float, outline: bool) -> dict[str, Any]:
    window, cap = GPT_4O
    model = TimedToolModel(
        behaviour=lambda days, i, mt: None,
        window=window,
        output_cap=cap,
        rate=rate,
        latency=latency,
    )
    model.profile = {"max_input_tokens": window, "max_output_tokens": cap}
    with tempfile.TemporaryDirectory() as out:
        settings = Settings(
            output_dir=out,
            speed=speed,
            rag_token_budget=300,
            outline=outline,
            embeddings="fake:384",
            script_words=SCRIPTED_SCRIPT_WORDS,
        )
        started = time.perf_counter()
        calendar = generate_calendar(
            "2026-03",
            ["AI agents"],
            "AI tools",
            model=model,
            settings=settings,
            retriever=FIXED_RETRIEVER,
        )
        seconds = time.perf_counter() - started
    kept = sum(count_text(json.dumps(row_dict(p.day))) for p in calendar.days)
    titles = [normalized(p.title) for p in calendar.days]
    outline_titles = [normalized(o.title) for o in calendar.outline]
    return {
        "outline_calls": sum(u.role == "outline" for u in calendar.usage),
        "titles_alike": len(titles)
        - len(set(titles))
        + len(outline_titles)
        - len(set(outline_titles)),
        "simulated_output_ratio": model.simulated_output / (len(calendar.days) * 400),
        "seconds": seconds,
        "calls": len(calendar.usage),
        "most_at_once": model.most_in_flight,
        "complete": calendar.is_complete,
        "output_tokens": calendar.total_output_tokens,
        "output_tokens_of_kept_rows": kept,
        "violations": len(model.violations),
    }


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--rate", type=float, default=800.0, help="output tokens per second")
    parser.add_argument(
        "--latency", type=float, default=0.05, help="seconds before the first token"
    )
    parser.add_argument("--repeat", type=int, default=3)
    parser.add_argument("--json", type=Path, default=None)
    args = parser.parse_args()
    plans = {"single call": ("economical", False)}
    plans |= {f"{speed} + outline": (speed, True) for speed in SPEEDS}
    results: dict[str, list[dict[str, Any]]] = {name: [] for name in plans}
    for _ in range(args.repeat):  # interleaved, so machine noise spreads over all plans
        for name, (speed, outline) in plans.items():
            results[name].append(one_month(speed, args.rate, args.latency, outline))
    base = statistics.median(r["seconds"] for r in results["single call"])
    summary = {}
    print(f"31-day month at gpt-4o limits, {args.rate:g} tokens/s, {args.repeat} runs each")
    for name, runs in results.items():
        median = statistics.median(r["seconds"] for r in runs)
        last = runs[-1]
        summary[name] = {"median_seconds": median, "ratio_to_single_call": median / base, **last}
        print(
            f"{name:>21}: {median:6.2f} s median ({median / base:5.1%} of the single call), "
            f"{last['calls']} calls ({last['outline_calls']} outline), up to "
            f"{last['most_at_once']} at once, output {last['output_tokens']:,} tokens for "
            f"{last['output_tokens_of_kept_rows']:,} kept "
            f"({last['output_tokens'] / last['output_tokens_of_kept_rows']:.2f}x; at real "
            f"lengths {last['simulated_output_ratio']:.2f}x), titles alike "
            f"{sum(r['titles_alike'] for r in runs)}, complete={all(r['complete'] for r in runs)}, "
            f"limit violations={sum(r['violations'] for r in runs)}"
        )
    if args.json:
        args.json.write_text(
            json.dumps(
                {"args": vars(args) | {"json": str(args.json)}, "results": summary}, indent=2
            )
        )


if __name__ == "__main__":
    main()
