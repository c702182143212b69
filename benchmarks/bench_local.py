"""Decoding speed of the bundled local model by thread count, side by side in one run.

Each configuration ``(decode threads, prompt threads)`` loads the bundled SmolLM2 GGUF
through llama-cpp-python and, ``--repeat`` times, interleaved with the others:

- reads a fresh prompt of about 2,100 tokens (mentor transcripts from the bundled corpus,
  the size of one reelcal chunk prompt) and times it (``max_tokens=1``);
- writes two days under reelcal's own JSON grammar (``grammar_schema`` with the content
  rules' word caps, as a chunk call does) and reports output tokens per second.

Run once on an idle machine and once with ``--busy`` (a busy loop on one core, like a test
run or a notebook kernel beside it). Medians are printed and written as JSON.

Not part of the test suite. Run from the repo root::

    .venv/bin/python benchmarks/bench_local.py            # about 2 minutes
    .venv/bin/python benchmarks/bench_local.py --busy
"""

from __future__ import annotations

import argparse
import json
import multiprocessing
import os
import random
import statistics
import sys
import time
from pathlib import Path

ROOT = Path(__file__).resolve().parents[1]
sys.path[:0] = [str(ROOT)]
os.environ.setdefault("OMP_WAIT_POLICY", "PASSIVE")  # as llama_contexts.load_llama sets it

from pipeline.config import Settings
from pipeline.generation.review.rules import ContentRules
from pipeline.generation.writing.schema import grammar_schema
from pipeline.models.local import available_cpus, bundled_gguf_path


def corpus_text(tokens: int) -> str:
    """About ``tokens`` tokens (4 characters each) of bundled transcripts."""
    lines = []
    for path in sorted((ROOT / "vectorstore" / "corpus").glob("*.jsonl")):
        lines += [json.loads(row)["transcript"] for row in path.read_text().splitlines()]
    return "\n".join(lines)[: tokens * 4]


def spin() -> None:
    while True:
        pass


def measure(llm, text: str, schema: dict) -> tuple[float, float]:
    # A different first line each time: nothing of the prompt is in llama.cpp's cache.
    system = f"Plan {random.randint(0, 10**6)}. You write short-video plans.\n{text}"
    messages = [
        {"role": "system", "content": system},
        {"role": "user", "content": "Write days 1 and 2 as JSON."},
    ]
    started = time.perf_counter()
    llm.create_chat_completion(messages=messages, max_tokens=1)
    prompt_seconds = time.perf_counter() - started
    started = time.perf_counter()
    reply = llm.create_chat_completion(
        messages=messages,
        max_tokens=900,
        temperature=0.7,
        repeat_penalty=1.15,
        response_format={"type": "json_object", "schema": schema},
    )
    seconds = time.perf_counter() - started
    return prompt_seconds, reply["usage"]["completion_tokens"] / seconds


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--repeat", type=int, default=3)
    parser.add_argument("--busy", action="store_true", help="keep one core busy meanwhile")
    parser.add_argument("--json", type=Path, default=None)
    args = parser.parse_args()

    from llama_cpp import Llama

    cpus = available_cpus()
    configs = sorted({(cpus, cpus), (1, cpus), (1, 1)}, reverse=True)
    path = str(bundled_gguf_path("smollm2"))
    rules = ContentRules.from_settings(Settings(), local=True)
    schema = grammar_schema([1, 2], words=rules.grammar_words())
    text = corpus_text(2000)
    busy = multiprocessing.Process(target=spin, daemon=True) if args.busy else None
    if busy:
        busy.start()
    models = {
        c: Llama(model_path=path, n_ctx=8192, n_threads=c[0], n_threads_batch=c[1], verbose=False)
        for c in configs
    }
    results: dict[tuple[int, int], list[tuple[float, float]]] = {c: [] for c in configs}
    load = os.getloadavg()[0]
    for _ in range(args.repeat):
        for config in configs:
            results[config].append(measure(models[config], text, schema))
    if busy:
        busy.terminate()
    print(f"{cpus} CPUs; busy core: {args.busy}; load average at start {load:.2f}")
    print("decode threads | prompt threads | prompt read (s) | decode (tokens/s)")
    summary = []
    for config, runs in results.items():
        prompt = statistics.median(r[0] for r in runs)
        rate = statistics.median(r[1] for r in runs)
        summary.append(
            {
                "decode_threads": config[0],
                "prompt_threads": config[1],
                "prompt_seconds": prompt,
                "decode_tokens_per_second": rate,
            }
        )
        print(f"{config[0]:>14} | {config[1]:>14} | {prompt:>15.2f} | {rate:>17.1f}")
    if args.json:
        args.json.write_text(
            json.dumps(
                {"args": vars(args) | {"json": str(args.json)}, "results": summary}, indent=2
            )
        )


if __name__ == "__main__":
    main()
