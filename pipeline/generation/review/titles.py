"""Titles compared as ideas: the same text once case, punctuation and spaces are ignored,
or a cosine similarity of their embeddings (the bundled MiniLM by default) at or above
``title_similarity`` (0.9). The outline's review and the review of each round's rows
(:mod:`pipeline.generation.review.rows`) use it to keep titles unique across the month.
"""

from __future__ import annotations

import logging
import math
from collections.abc import Sequence
from typing import Any

from langchain_core.embeddings import Embeddings

from pipeline.config import Settings
from pipeline.errors import ReelcalError
from pipeline.generation.review.rules import normalized

logger = logging.getLogger("reelcal")


class TitleGuard:
    """Finds titles that repeat another: the same normalized text, or embeddings with a
    cosine similarity of at least ``threshold`` (no embeddings: text only).

    Example:
        .. code-block:: python

            guard = TitleGuard(load_embeddings("local:all-MiniLM-L6-v2"), threshold=0.9)
            guard.repeats(["5 AI tools that save you hours"], taken=["Five AI tools to save hours"])
    """

    def __init__(self, embeddings: Embeddings | None, threshold: float = 0.9) -> None:
        self._embeddings = embeddings
        self._settings: Settings | None = None
        self.threshold = threshold
        #: vectors of the titles seen: each round compares its new titles with every one
        #: kept before, so those are embedded once per run, not once per round
        self._known: dict[str, list[float]] = {}

    @classmethod
    def from_settings(cls, settings: Settings) -> TitleGuard:
        """A guard with ``settings.embeddings`` (loaded on first use: a run whose titles
        never need comparing never loads them) and ``title_similarity``."""
        guard = cls(None, settings.title_similarity)
        guard._settings = settings
        return guard

    @property
    def embeddings(self) -> Embeddings | None:
        if self._settings is not None:
            self._embeddings, self._settings = title_embeddings(self._settings), None
        return self._embeddings

    def repeats(self, titles: Sequence[str], *, taken: Sequence[str] = ()) -> dict[int, str]:
        """Index in ``titles`` -> the earlier title it repeats (from ``taken`` or an
        earlier entry of ``titles``)."""
        if not titles:
            return {}
        vectors = self._vectors([*taken, *titles])
        kept: list[tuple[str, list[float] | None]] = [
            (t, vectors[i] if vectors else None) for i, t in enumerate(taken)
        ]
        found: dict[int, str] = {}
        for i, title in enumerate(titles):
            vector = vectors[len(taken) + i] if vectors else None
            match = next((t for t, v in kept if self._alike(title, vector, t, v)), None)
            if match is None:
                kept.append((title, vector))
            else:
                found[i] = match
        return found

    def _vectors(self, texts: list[str]) -> list[list[float]] | None:
        embeddings = self.embeddings
        if embeddings is None or not texts:
            return None
        new = [t for t in dict.fromkeys(texts) if t not in self._known]
        try:
            self._known.update(zip(new, embeddings.embed_documents(new) if new else []))
        except Exception as exc:  # noqa: BLE001 - any provider's error: a check, not a call
            # Comparing by meaning is a check on rows already paid for: an embeddings
            # provider that fails (network, quota) must not end the run; text still counts.
            logger.warning("titles compared as text only this time: %s", exc)
            return None
        return [self._known[t] for t in texts]

    def _alike(self, a: str, va: Any, b: str, vb: Any) -> bool:
        if normalized(a) == normalized(b):
            return True
        return va is not None and vb is not None and cosine(va, vb) >= self.threshold


def cosine(a: Sequence[float], b: Sequence[float]) -> float:
    dot = sum(x * y for x, y in zip(a, b))
    norms = math.sqrt(sum(x * x for x in a)) * math.sqrt(sum(y * y for y in b))
    return dot / norms if norms else 0.0


def title_embeddings(settings: Settings) -> Embeddings | None:
    """The embeddings titles are compared with; text only when they cannot load."""
    from pipeline.knowledge.embeddings import load_embeddings

    try:
        return load_embeddings(settings.embeddings)
    except ReelcalError as exc:
        logger.warning("titles compared as text only: %s", exc)
        return None
