"""Examples for each chunk's own ideas: retrieved for its outline lines, after the shared
prompt, within the room the call has left, and listed in the days' sources."""

from __future__ import annotations

import pytest
from langchain_core.documents import Document
from langchain_core.embeddings import Embeddings
from scripted import ScriptedToolModel, is_outline_prompt, outline_dict, outline_settings

from pipeline.generation.chains import generate_calendar
from pipeline.generation.writing.budget import TokenBudget
from pipeline.knowledge.retriever import MentorRetriever
from pipeline.knowledge.vectorstore import FaissStore

pytestmark = pytest.mark.usefixtures("no_backoff")

KEYWORDS = ("zebra", "invoice", "agents", "tools", "sleep")


class KeywordEmbeddings(Embeddings):
    """One dimension per keyword a text contains (and a small constant one): a title about
    zebras is close to the zebra transcript and to nothing else."""

    def embed_documents(self, texts: list[str]) -> list[list[float]]:
        return [[float(k in t.lower()) for k in KEYWORDS] + [0.05] for t in texts]

    def embed_query(self, text: str) -> list[float]:
        return self.embed_documents([text])[0]


TRANSCRIPTS = {
    "agents-1": "AI agents answer your inbox while you film. Here is the setup I use.",
    "tools-1": "Three AI tools I open every morning before I write a single script.",
    "zebra-1": "The zebra spreadsheet trick: color every row you filmed, then batch the rest.",
    "invoice-1": "Send every invoice the day you deliver; here is the template I use.",
    "sleep-1": "I sleep eight hours and post daily: this is how the week is planned.",
}


def retriever() -> MentorRetriever:
    docs = [
        Document(page_content=text, metadata={"source_id": sid, "creator": sid.split("-")[0]})
        for sid, text in TRANSCRIPTS.items()
    ]
    store = FaissStore.from_documents(docs, KeywordEmbeddings())
    return MentorRetriever(vectorstore=store, k=1, fetch_k=5)


def zebra_or_invoice(days, index):
    topic = {0: "zebra spreadsheet", 1: "invoice template"}
    return [
        {**outline_dict(d), "title": f"The {topic[(d - 1) // 16]} idea for day {d}"} for d in days
    ]


def run(tmp_path, *, mentor_retriever=None, **overrides):
    model = ScriptedToolModel(window=128_000, output_cap=16_384)
    model.outline_behaviour = zebra_or_invoice
    cal = generate_calendar(
        "2027-03",
        ["AI agents"],
        "AI tools",
        model=model,
        settings=outline_settings(tmp_path, **{"speed": "fast", **overrides}),
        retriever=mentor_retriever or retriever(),
    )
    return cal, model


def test_each_chunk_gets_the_transcripts_closest_to_its_lines_and_lists_them(tmp_path):
    cal, model = run(tmp_path)
    assert cal.is_complete and not model.violations
    shared = ["agents-1", "tools-1"]  # the trend's and the niche's, in every prompt
    for day in range(1, 32):
        own = "zebra-1" if day <= 16 else "invoice-1"
        assert cal.sources[day] == [*shared, own], day
    writing = [p for p in model.prompts if not is_outline_prompt(p)]
    heading = "Example transcripts closest to these days' ideas"
    zebra = [p for p in writing if 'day 3"' in p or "Day 3:" in p]
    assert zebra and all(heading in p and "zebra spreadsheet trick" in p for p in zebra)
    # after the part every chunk shares: the prompts start alike up to the day's own part
    starts = {p.split(heading)[0].split("Special dates")[0] for p in writing}
    assert len(starts) == 1


def test_no_chunk_examples_without_room_budget_or_outline(tmp_path):
    cal, model = run(tmp_path, chunk_rag_token_budget=0)
    assert all(ids == ["agents-1", "tools-1"] for ids in cal.sources.values())
    assert not any("closest to these days' ideas" in p for p in model.prompts)

    cal, model = run(tmp_path / "no-outline", outline=False)
    assert all(ids == ["agents-1", "tools-1"] for ids in cal.sources.values())


def test_input_room_is_what_a_prompt_can_grow_without_lowering_max_tokens():
    budget = TokenBudget(
        context_window=4096, max_output_tokens=1024, tokens_per_day=300, safety_margin=100
    )
    # available 4096 - 2000 - 100 = 1996; two days want 600: 1396 to spare
    assert budget.input_room(2000, 2) == 1396
    assert budget.max_tokens(2000 + 1396, 2) == budget.max_tokens(2000, 2) == 600
    assert budget.max_tokens(2000 + 1397, 2) < 600
    # the output cap binds: 4 days want 1200, capped at 1024
    assert budget.input_room(2000, 4) == 1996 - 1024
    assert budget.input_room(3990, 1) == 0


def test_a_plain_langchain_retriever_fits_the_slot_and_gives_each_chunk_its_sources(tmp_path):
    from langchain_core.vectorstores import InMemoryVectorStore

    docs = [
        Document(page_content=text, metadata={"source_id": sid})
        for sid, text in TRANSCRIPTS.items()
    ]
    store = InMemoryVectorStore.from_documents(docs, KeywordEmbeddings())
    cal, model = run(tmp_path, mentor_retriever=store.as_retriever(search_kwargs={"k": 1}))
    assert cal.is_complete and not model.violations
    shared = ["agents-1", "tools-1"]  # one string query per trend, and the niche
    for day in range(1, 32):
        own = "zebra-1" if day <= 16 else "invoice-1"
        assert cal.sources[day] == [*shared, own], day
