"""Titles compared with the bundled MiniLM embeddings (the default), for outline lines and
for the rows of a round: paraphrases count as the same idea at the default threshold
(0.9), different ideas do not."""

from __future__ import annotations

import pytest

from pipeline.config import Settings
from pipeline.generation.review.titles import TitleGuard
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


def test_the_round_review_drops_a_row_whose_title_rewords_another_chunks(guard):
    """Rows of one round (chunks written at once): the later day whose title rewords an
    earlier one's is dropped with why; the kept calendar's titles count too."""
    from pipeline.generation.review.rows import review_row_titles

    def row(day: int, title: str) -> dict:
        return {"date": f"2027-02-{day:02d}", "title": title}

    rows = [
        row(3, "Automate your invoices using AI agents"),
        row(9, "How I film reels on my phone"),
        row(17, "Automating invoices with AI agents"),  # day 3, reworded
        row(24, "Five AI tools to save hours each week"),  # the kept day 1, reworded
    ]
    state = {
        "month": "2027-02",  # a state without a schedule: the month, one post a day
        "dates": [r["date"] for r in rows],
        "round": 0,
        "kept": [row(1, "5 AI tools that save you hours every week")],
        "rows": {r["date"]: r for r in rows},
    }
    update = review_row_titles(state, guard, strict=True)
    assert update["rows"] == {"2027-02-17": None, "2027-02-24": None}
    assert [b["day"] for b in update["rule_breaks"]] == [17, 24]
    assert update["rows_checked"] == ["2027-02-03", "2027-02-09"]
