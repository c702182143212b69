"""Outline titles compared with the bundled MiniLM embeddings (the default): paraphrases
count as the same idea at the default threshold (0.9), different ideas do not."""

from __future__ import annotations

import pytest

from pipeline.config import Settings
from pipeline.generation.titles import TitleGuard
from pipeline.knowledge.embeddings import load_embeddings

pytestmark = pytest.mark.integration


@pytest.fixture(scope="module")
def guard() -> TitleGuard:
    settings = Settings()
    return TitleGuard(load_embeddings(settings.embeddings), settings.title_similarity)


def test_a_paraphrased_title_is_caught_and_different_ideas_are_kept(guard):
    taken = ["5 AI tools that save you hours every week"]
    titles = [
        "Five AI tools to save hours each week",  # the same idea, reworded (cosine 0.95)
        "AI agents for your inbox",
        "AI agents for your calendar",  # shares words with the line above (cosine 0.69)
        "How I film reels on my phone",
        "Automate your invoices using AI agents",
        "Automating invoices with AI agents",  # the line above, reworded (cosine 0.97)
    ]
    assert guard.repeats(titles, taken=taken) == {
        0: "5 AI tools that save you hours every week",
        5: "Automate your invoices using AI agents",
    }
