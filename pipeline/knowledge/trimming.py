"""The token-trimming transformer: keep the best retrieved examples within a budget.

Owns one rule, counted in the target model's tokens on exactly the text that goes
into the prompt (:func:`pipeline.knowledge.retriever.format_documents`)::

    total = sum(tokens(block_i)) + (kept - 1) * tokens(separator)  <=  budget

Documents are taken in the order given (best first) until the next one does not
fit; with ``cut_last`` that one is cut at a sentence boundary so that it fits
(or dropped when not even its first sentence does), and everything after it is
dropped. Each rendered block is counted once and cached. As a final guard the
joined text is counted and the last document dropped while it is over budget, so
``counter.count(format_documents(kept)) <= budget`` always holds.

Example:
    .. code-block:: python

        trimmer = TokenBudgetTrimmer(budget=1000, counter=token_counter_for(model))
        docs = trimmer.invoke(retrieved)            # also a Runnable step named "trim"
        docs, report = trimmer.trim_with_report(retrieved)
        report.kept, report.dropped, report.cut, report.total_tokens
"""

from __future__ import annotations

import re
from collections.abc import Callable, Sequence
from dataclasses import dataclass
from typing import Any

from langchain_core.documents import BaseDocumentTransformer, Document
from langchain_core.runnables import RunnableConfig, RunnableLambda

from pipeline.errors import ConfigError
from pipeline.knowledge.retriever import render_document
from pipeline.models.tokens import TokenCounter, estimate_counter

SEPARATOR = "\n\n"  # what format_documents puts between blocks
_SENTENCE_END = re.compile(r"(?<=[.!?])\s+")
_CACHE_LIMIT = 50_000


@dataclass(frozen=True)
class TrimReport:
    """What one trim kept: counts of documents and the tokens they take."""

    kept: int
    dropped: int
    cut: bool
    total_tokens: int
    budget: int


class TokenBudgetTrimmer(BaseDocumentTransformer):
    """Keeps the highest-ranked documents whose rendered blocks fit ``budget`` tokens."""

    def __init__(
        self,
        *,
        budget: int = 1000,
        counter: TokenCounter | None = None,
        cut_last: bool = True,
        render: Callable[[Document], str] = render_document,
    ) -> None:
        if budget < 0:
            raise ConfigError(
                f"Token budget {budget} is negative: use 0 or more (rag_token_budget)."
            )
        self.budget = budget
        self.counter = counter or estimate_counter()
        self.cut_last = cut_last
        self.render = render
        self.last_report: TrimReport | None = None
        self._counts: dict[str, int] = {}

    # ----------------------------------------------------------------- API
    def trim_with_report(self, documents: Sequence[Document]) -> tuple[list[Document], TrimReport]:
        """The documents that fit (copies with ``tokens`` in their metadata) and a report."""
        separator = self._count(SEPARATOR)
        kept: list[tuple[Document, int]] = []
        used, cut = 0, False
        for doc in documents:
            extra = separator if kept else 0
            room = self.budget - used - extra
            tokens = self._count(self.render(doc))
            if tokens <= room:
                kept.append((doc, tokens))
                used += extra + tokens
                continue
            if self.cut_last and (piece := self._cut(doc, room)) is not None:
                kept.append(piece)
                used += extra + piece[1]
                cut = True
            break
        total = self._guard(kept)
        out = [
            Document(
                id=doc.id,
                page_content=doc.page_content,
                metadata={**doc.metadata, "tokens": tokens},
            )
            for doc, tokens in kept
        ]
        cut = cut and any(d.metadata.get("cut") for d in out)
        report = TrimReport(len(out), len(documents) - len(out), cut, total, self.budget)
        self.last_report = report
        return out, report

    def trim(self, documents: Sequence[Document]) -> list[Document]:
        return self.trim_with_report(documents)[0]

    def transform_documents(
        self, documents: Sequence[Document], **kwargs: Any
    ) -> Sequence[Document]:
        return self.trim(documents)

    def as_runnable(self) -> RunnableLambda:
        """This trimmer as the chain's ``trim`` step."""
        return RunnableLambda(self.trim, name="trim")

    def invoke(
        self, input: Sequence[Document], config: RunnableConfig | None = None
    ) -> list[Document]:
        return self.as_runnable().invoke(input, config)

    # ----------------------------------------------------------------- internals
    def _count(self, text: str) -> int:
        tokens = self._counts.get(text)
        if tokens is None:
            if len(self._counts) >= _CACHE_LIMIT:
                self._counts.clear()
            tokens = self._counts[text] = self.counter.count(text)
        return tokens

    def _cut(self, doc: Document, room: int) -> tuple[Document, int] | None:
        """The longest sentence prefix of ``doc`` whose block fits ``room`` tokens."""
        text = doc.page_content.strip()
        ends = [match.start() for match in _SENTENCE_END.finditer(text)]  # sentence boundaries
        if room <= 0 or not ends:
            return None

        def piece(n: int) -> tuple[Document, int]:
            short = Document(
                id=doc.id, page_content=text[: ends[n - 1]], metadata={**doc.metadata, "cut": True}
            )
            return short, self._count(self.render(short))

        best, low, high = None, 1, len(ends)
        while low <= high:  # binary search: tokens grow with the number of sentences
            middle = (low + high) // 2
            candidate = piece(middle)
            if candidate[1] <= room:
                best, low = candidate, middle + 1
            else:
                high = middle - 1
        return best

    def _guard(self, kept: list[tuple[Document, int]]) -> int:
        """Count the joined text; drop from the end while it is over budget."""
        while len(kept) > 1:
            joined = SEPARATOR.join(self.render(doc) for doc, _ in kept)
            actual = self._count(joined)
            if actual <= self.budget:
                return actual
            kept.pop()
        return kept[0][1] if kept else 0
