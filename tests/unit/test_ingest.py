"""Tests of pipeline.knowledge.ingest: every transcript format, creators, skipped files, chunking."""

from __future__ import annotations

import json
from pathlib import Path

import pytest

from pipeline.errors import ConfigError
from pipeline.knowledge.ingest import load_files, read_records, subtitles_to_text
from pipeline.models.tokens import tiktoken_counter

RECORD = {
    "reel_id": "r-1",
    "creator": "@maya",
    "url": "https://example.com/r1",
    "hook": "Stop pricing by the hour.",
    "caption": "Pricing tips",
    "hashtags": ["#pricing", "#freelance"],
    "views": 1200000,
    "likes": 45000,
    "posted_at": "2025-02-01",
    "niche": "business",
    "transcript": "Hourly pricing caps your income. Price the outcome instead.",
}

SRT = """1
00:00:00,000 --> 00:00:02,500
Welcome back to the kitchen.

2
00:00:02,500 --> 00:00:05,000
<i>Today</i> we cook rice.

3
00:00:05,000 --> 00:00:07,000
Today we cook rice.
"""

VTT = """WEBVTT
Kind: captions

NOTE this block is a comment

intro
00:00.000 --> 00:02.000 align:start
<v Leo>Squats first.</v>

00:00:02.000 --> 00:00:04.000
Then <c.yellow>deadlifts</c> <00:00:03.000>today.
"""


def _mixed_folder(root: Path) -> Path:
    """Every format, creator sub-folders, and broken files."""
    (root / "leo").mkdir(parents=True)
    (root / "ana").mkdir()
    (root / "leo" / "squats.vtt").write_text(VTT)
    (root / "ana" / "rice.srt").write_text(SRT)
    (root / "notes.txt").write_text("Batch cooking saves evenings. Cook once, eat three times.")
    (root / "ideas.md").write_text("# Ideas\n\nFilm the build, not the result.")
    (root / "one.json").write_text(json.dumps(RECORD))
    (root / "many.json").write_text(
        json.dumps([{**RECORD, "reel_id": "r-2"}, {**RECORD, "reel_id": "r-3", "transcript": ""}])
    )
    (root / "whisper.json").write_text(
        json.dumps(
            {
                "language": "en",
                "segments": [
                    {"text": " Agents use tools.", "start": 0.0, "end": 1.0},
                    {"text": " They loop until done.", "start": 1.0, "end": 2.0},
                ],
            }
        )
    )
    (root / "reels.jsonl").write_text(
        json.dumps({**RECORD, "reel_id": "j-1"})
        + "\n\n"
        + json.dumps({**RECORD, "reel_id": "j-2", "creator": "dev"})
        + "\n"
    )
    (root / "sheet.csv").write_text(
        "Reel_ID,Creator,Views,Hashtags,Text\n"
        'c-1,sara,"1,200",#money #budget,"Pay yourself first.\nThen budget the rest."\n'
    )
    (root / "broken.json").write_text("{not json")
    (root / "broken.jsonl").write_text(json.dumps(RECORD) + "\n{oops\n")
    (root / "latin1.txt").write_bytes("caf\xe9 cr\xe8me".encode("latin-1"))
    (root / "empty.txt").write_text("   \n")
    (root / "nocolumn.csv").write_text("title,views\nA,1\n")
    (root / "ignored.pdf").write_bytes(b"%PDF-1.4")
    return root


def _by_source(result):
    return {d.metadata["source_id"]: d for d in result.documents}


def test_mixed_folder_reads_every_format_and_skips_broken_files(tmp_path):
    result = load_files([_mixed_folder(tmp_path / "mentors")])
    docs = _by_source(result)

    assert {"r-1", "r-2", "j-1", "j-2", "c-1"} <= set(docs)
    assert "r-3" not in docs  # empty transcript
    skipped = {Path(s.path).name: s.reason for s in result.skipped}
    assert set(skipped) == {
        "broken.json",
        "broken.jsonl",
        "latin1.txt",
        "empty.txt",
        "nocolumn.csv",
    }
    assert "line 2" in skipped["broken.jsonl"]
    assert "UTF-8" in skipped["latin1.txt"]
    assert all("\n" not in reason for reason in skipped.values())
    assert not any(Path(f.path).suffix == ".pdf" for f in result.files)
    assert len(result.files) == 9


def test_record_metadata_is_kept(tmp_path):
    docs = _by_source(load_files([_mixed_folder(tmp_path / "m")]))
    meta = docs["r-1"].metadata
    assert meta["creator"] == "maya"  # leading @ dropped
    assert meta["views"] == 1200000 and meta["likes"] == 45000
    assert meta["hook"] == RECORD["hook"] and meta["url"] == RECORD["url"]
    assert meta["posted_at"] == "2025-02-01" and meta["niche"] == "business"
    assert meta["hashtags"] == ["#pricing", "#freelance"]
    assert meta["chunk"] == 0 and len(meta["content_hash"]) == 64
    assert docs["j-2"].metadata["creator"] == "dev"
    csv_doc = docs["c-1"]
    assert csv_doc.metadata["views"] == 1200 and csv_doc.metadata["hashtags"] == [
        "#money",
        "#budget",
    ]
    assert csv_doc.page_content == "Pay yourself first.\nThen budget the rest."


def test_default_creator_is_subfolder_then_stem_and_option_overrides(tmp_path):
    root = _mixed_folder(tmp_path / "m")
    docs = load_files([root]).documents
    creators = {d.metadata["source_file"]: d.metadata["creator"] for d in docs}
    assert creators["squats.vtt"] == "leo" and creators["rice.srt"] == "ana"
    assert creators["notes.txt"] == "notes"
    forced = load_files([root / "notes.txt", root / "one.json"], creator="someone").documents
    by_file = {d.metadata["source_file"]: d.metadata["creator"] for d in forced}
    assert by_file == {"notes.txt": "someone", "one.json": "maya"}  # a record's own creator wins


def test_subtitles_lose_numbers_timestamps_tags_and_repeats():
    assert subtitles_to_text(SRT) == "Welcome back to the kitchen. Today we cook rice."
    assert subtitles_to_text(VTT) == "Squats first. Then deadlifts today."


def test_whisper_json_joins_segments(tmp_path):
    path = tmp_path / "talk.json"
    path.write_text(
        json.dumps(
            {
                "segments": [
                    {"text": " A.", "start": 0, "end": 1},
                    {"text": " B.", "start": 1, "end": 2},
                ]
            }
        )
    )
    (doc,) = read_records(path, default_creator="x")
    assert doc.page_content == "A. B."
    assert doc.metadata["source_id"] == "x:talk.json#0"


def test_missing_and_unsupported_paths_are_skipped_not_raised(tmp_path):
    odd = tmp_path / "clip.mp4"
    odd.write_bytes(b"\0")
    result = load_files([tmp_path / "nope.txt", odd])
    assert result.documents == []
    assert [Path(s.path).name for s in result.skipped] == ["nope.txt", "clip.mp4"]


def test_chunks_fit_the_token_size_and_overlap(tmp_path):
    sentences = [
        f"Sentence number {i} talks about topic {i % 7} in some detail." for i in range(200)
    ]
    (tmp_path / "long.txt").write_text(" ".join(sentences))
    docs = load_files([tmp_path / "long.txt"], chunk_tokens=80, chunk_overlap=20).documents
    count = tiktoken_counter("cl100k_base").count
    assert len(docs) > 10
    assert all(count(d.page_content) <= 80 for d in docs)
    assert [d.metadata["chunk"] for d in docs] == list(range(len(docs)))
    assert all(d.page_content.endswith(".") for d in docs[:-1])  # cut at sentence ends
    first_tail = docs[0].page_content.split(". ")[-1]
    assert first_tail in docs[1].page_content  # overlap carries the last sentence over
    assert len({d.metadata["content_hash"] for d in docs}) == len(docs)


def test_source_ids_and_hashes_are_stable(tmp_path):
    root = _mixed_folder(tmp_path / "m")
    first = [
        (d.metadata["source_id"], d.metadata["content_hash"]) for d in load_files([root]).documents
    ]
    second = [
        (d.metadata["source_id"], d.metadata["content_hash"]) for d in load_files([root]).documents
    ]
    assert first == second
    assert "notes:notes.txt#0" in {s for s, _ in first}


def test_same_file_given_twice_is_read_once(tmp_path):
    (tmp_path / "a.txt").write_text("Only once.")
    result = load_files([tmp_path, tmp_path / "a.txt"])
    assert len(result.files) == 1


@pytest.mark.parametrize(("tokens", "overlap"), [(8, 0), (100, 100), (100, -1)])
def test_bad_chunk_settings_are_refused(tmp_path, tokens, overlap):
    with pytest.raises(ConfigError, match="chunk_"):
        load_files([tmp_path], chunk_tokens=tokens, chunk_overlap=overlap)
