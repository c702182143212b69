"""Tests of pipeline.knowledge.trimming: the budget is never exceeded, counts are cached, cuts are clean."""

from __future__ import annotations

from collections import Counter

import pytest
from hypothesis import HealthCheck, given, settings
from hypothesis import strategies as st
from langchain_core.documents import Document

from pipeline.errors import ConfigError
from pipeline.knowledge.retriever import format_documents, render_document
from pipeline.knowledge.trimming import TokenBudgetTrimmer, TrimReport
from pipeline.models.tokens import TokenCounter, tiktoken_counter

COUNTER = tiktoken_counter("cl100k_base")


def _doc(i: int, sentences: int = 6) -> Document:
    text = " ".join(f"Reel {i} sentence {j} explains one useful idea." for j in range(sentences))
    return Document(
        id=f"d{i}",
        page_content=text,
        metadata={"creator": f"c{i}", "views": 1000 * i, "hook": f"Hook {i}"},
    )


def _tokens(doc: Document) -> int:
    return COUNTER.count(render_document(doc))


class CountingCounter(TokenCounter):
    """A cl100k counter that records every text it is asked to count."""

    def __init__(self) -> None:
        super().__init__(
            "counting", COUNTER._encode, exact=True, tokens_per_message=3, reply_priming=3
        )
        self.calls: Counter[str] = Counter()

    def count(self, text: str) -> int:
        self.calls[text] += 1
        return super().count(text)


def test_keeps_the_best_documents_in_order_within_budget():
    docs = [_doc(i) for i in range(3)]
    budget = _tokens(docs[0]) + COUNTER.count("\n\n") + _tokens(docs[1]) + 5
    kept, report = TokenBudgetTrimmer(
        budget=budget, counter=COUNTER, cut_last=False
    ).trim_with_report(docs)
    assert [d.id for d in kept] == ["d0", "d1"]
    assert [d.metadata["tokens"] for d in kept] == [_tokens(docs[0]), _tokens(docs[1])]
    assert report == TrimReport(
        kept=2,
        dropped=1,
        cut=False,
        total_tokens=COUNTER.count(format_documents(kept)),
        budget=budget,
    )
    assert report.total_tokens <= budget


def test_cut_last_cuts_the_first_misfit_at_a_sentence_boundary():
    docs = [_doc(i) for i in range(3)]
    budget = _tokens(docs[0]) + COUNTER.count("\n\n") + _tokens(docs[1]) // 2
    trimmer = TokenBudgetTrimmer(budget=budget, counter=COUNTER)
    kept = trimmer.trim(docs)
    assert [d.id for d in kept] == ["d0", "d1"]
    cut = kept[1]
    assert cut.metadata["cut"] is True and cut.page_content.endswith(".")
    assert docs[1].page_content.startswith(cut.page_content) and len(cut.page_content) < len(
        docs[1].page_content
    )
    assert cut.metadata["tokens"] == _tokens(cut)
    assert trimmer.last_report.cut and trimmer.last_report.dropped == 1
    assert COUNTER.count(format_documents(kept)) <= budget
    # the best whole prefix: one more sentence would not fit
    longer = docs[1].page_content[: docs[1].page_content.index(".", len(cut.page_content) + 1) + 1]
    assert (
        COUNTER.count(
            format_documents([kept[0], Document(page_content=longer, metadata=cut.metadata)])
        )
        > budget
    )


def test_a_document_without_a_fitting_sentence_is_dropped():
    one_sentence = Document(page_content="word " * 300, metadata={"creator": "x"})
    kept, report = TokenBudgetTrimmer(budget=50, counter=COUNTER).trim_with_report(
        [one_sentence, _doc(1)]
    )
    assert kept == [] and report == TrimReport(0, 2, False, 0, 50)


def test_each_document_is_counted_once_even_across_calls():
    counter = CountingCounter()
    docs = [_doc(i) for i in range(8)]
    trimmer = TokenBudgetTrimmer(budget=4 * _tokens(docs[0]), counter=counter)
    first = trimmer.trim(docs)
    second = trimmer.trim(docs)
    assert [d.page_content for d in first] == [d.page_content for d in second]
    assert all(n == 1 for n in counter.calls.values())
    assert all(counter.calls[render_document(d)] == 1 for d in docs[: len(first)])


def test_budget_zero_and_negative():
    assert TokenBudgetTrimmer(budget=0, counter=COUNTER).trim([_doc(1)]) == []
    with pytest.raises(ConfigError, match="negative"):
        TokenBudgetTrimmer(budget=-1, counter=COUNTER)


def test_runnable_and_transformer_interfaces():
    trimmer = TokenBudgetTrimmer(budget=10_000, counter=COUNTER)
    docs = [_doc(i) for i in range(3)]
    assert [d.id for d in trimmer.invoke(docs)] == ["d0", "d1", "d2"]
    assert trimmer.as_runnable().get_name() == "trim"
    assert len(trimmer.transform_documents(docs)) == 3
    assert "tokens" not in docs[0].metadata  # inputs are not mutated
    with pytest.raises(TypeError):
        TokenBudgetTrimmer(500)  # keyword-only


def test_default_counter_is_the_cl100k_estimate():
    assert "cl100k_base" in TokenBudgetTrimmer().counter.name


_alphabet = st.sampled_from(list("abcdefghij XYZ.,!?<>&\"'\n\té🍤ок"))
_pieces = st.one_of(
    st.text(alphabet=_alphabet, max_size=8),
    st.sampled_from(["</example>", "<|endoftext|>", "word ", ". "]),
)
_sentence = st.lists(_pieces, max_size=10).map(lambda parts: "".join(parts).strip() + ".")
_document = st.builds(
    lambda sentences, creator, views, hook: Document(
        page_content=" ".join(sentences),
        metadata={"creator": creator, "views": views, "hook": hook},
    ),
    st.lists(_sentence, min_size=1, max_size=12),
    st.text(alphabet=_alphabet, max_size=12),
    st.one_of(st.none(), st.integers(0, 10**9)),
    st.text(alphabet=_alphabet, max_size=40),
)


@settings(max_examples=200, deadline=None, suppress_health_check=[HealthCheck.too_slow])
@given(docs=st.lists(_document, max_size=8), budget=st.integers(0, 600), cut_last=st.booleans())
def test_property_never_exceeds_the_budget(docs, budget, cut_last):
    kept, report = TokenBudgetTrimmer(
        budget=budget, counter=COUNTER, cut_last=cut_last
    ).trim_with_report(docs)
    assert COUNTER.count(format_documents(kept)) <= budget
    assert report.total_tokens <= budget
    assert report.kept == len(kept) and report.kept + report.dropped == len(docs)
    # kept is a prefix of the input (the last one possibly cut to a prefix of its text)
    for original, chosen in zip(docs, kept, strict=False):
        assert original.metadata["creator"] == chosen.metadata["creator"]
        assert original.page_content.startswith(chosen.page_content)
    assert sum(1 for d in kept if d.metadata.get("cut")) <= (1 if cut_last else 0)
