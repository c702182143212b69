"""Reading a small model's plain-chat answers (prose mode) into a post's fields.

Asked one short question, a small model answers with the field, often wrapped in a
preamble ("Here's a short script for the video:"), quotes, markdown, emoji, hashtags or a
numbered list. These functions keep the answer and drop the wrapping; they never invent
text. A script is cut at the last sentence that ends within its word cap (the model
cannot count words; whole sentences read better than a reply asked again).

Example:
    .. code-block:: python

        spoken_text('Here is a script:\\n\\n"Hi there! Follow for more. #ai"')
        # -> 'Hi there! Follow for more.'
        keyword_hashtags("1. Automation\\n2. AI (Artificial Intelligence)\\n3. Customer Service")
        # -> ['#automation', '#ai', '#customerservice']
"""

from __future__ import annotations

import re
import unicodedata

_PREAMBLE = re.compile(
    r"^(here('s| is| are)|sure|certainly|of course|okay|title|caption|script|hook|"
    r"cover( text)?|question)\b[^\n]*[:\n]\s*",
    re.IGNORECASE,
)
_LABEL = re.compile(r"^\s*\**[A-Za-z ]{2,24}\**\s*:\s+(?=\S)")
_QUOTED = re.compile(r"[\"“]([^\"“”]{3,})[\"”]")
_URL = re.compile(r"https?://\S+|www\.\S+")
_TAGS = re.compile(r"(?<!\w)[#@][\w.]+")
_HANDLE = re.compile(r"(?<!\w)@[\w.]+")
_TAG_RUN = re.compile(r"(?<!\w)#\w+(\s+#\w+)+[.!]?")
_MARKDOWN = re.compile(r"^\s*(#{1,6}\s+|[-*•]\s+|\d+[.)]\s+)", re.MULTILINE)
_SENTENCE_END = re.compile(r"(?<=[.!?…])[\"”']?\s+")
_ITEM_SPLIT = re.compile(r"\n|,|;|\s+-\s+")
_NOT_WORD = re.compile(r"[^a-z0-9 ]+")


def _no_symbols(text: str) -> str:
    """``text`` without emoji and other pictographs (Unicode category So/Sk/Cs)."""
    return "".join(
        ch for ch in text if unicodedata.category(ch) not in ("So", "Sk", "Cs", "Co", "Cn")
    )


def _unwrap(text: str) -> str:
    text = text.strip().strip("*_ ")
    for left, right in (('"', '"'), ("“", "”"), ("'", "'")):
        if len(text) > 2 and text.startswith(left) and text.endswith(right):
            text = text[1:-1].strip()
    if text.count('"') == 1:  # a quote the reply opened and never closed (or the reverse)
        text = text.replace('"', "").strip()
    return text


def spoken_text(text: str) -> str:
    """Free text (a script, a caption, a note) as one paragraph: no preamble, quotes,
    markdown, links, runs of hashtags or @handles, emoji, or line breaks (a lone
    hashtag inside a sentence keeps its word)."""
    text = _no_symbols(_URL.sub("", text)).strip()
    text = _PREAMBLE.sub("", text, count=1) if "\n" in text.strip() or ":" in text[:60] else text
    text = _MARKDOWN.sub("", text)
    text = re.sub(
        r"(?<!\w)#(\w)", r"\1", _TAG_RUN.sub("", _HANDLE.sub("", text))
    )  # "#every day" -> "every day"
    text = " ".join(_unwrap(line) for line in text.splitlines() if line.strip())
    return " ".join(_unwrap(text).split())


def one_line(text: str) -> str:
    """A short field (a title, a hook, a question): the quoted part of a "How about
    "..."" answer, else the first line without its label, wrapping quotes or hashtags."""
    text = _no_symbols(text).strip()
    lines = [ln for ln in _MARKDOWN.sub("", text).splitlines() if re.search(r"[^\W\d_]", ln)]
    if len(lines) > 1 and lines[0].rstrip().endswith(":"):
        lines = lines[1:]
    line = lines[0] if lines else ""
    quoted = _QUOTED.search(line)
    if quoted and len(quoted.group(1).split()) >= 2 and not line.lstrip().startswith(('"', "“")):
        line = quoted.group(1)
    line = _LABEL.sub("", line)
    line = _TAGS.sub("", line)
    return " ".join(_unwrap(line).split()).rstrip(",;:")


def words(text: str) -> int:
    """Words as the content rules count them (split on whitespace)."""
    return len(text.split())


def within_words(text: str, max_words: int) -> str:
    """``text`` cut after the last sentence that ends within ``max_words`` (the whole of
    it when it fits, or when its first sentence is already longer)."""
    if words(text) <= max_words:
        return text
    kept: list[str] = []
    for sentence in _SENTENCE_END.split(text):
        if words(" ".join([*kept, sentence])) > max_words:
            break
        kept.append(sentence)
    return " ".join(kept) if kept else text


def first_question(text: str) -> str:
    """The first sentence that asks something ("Dear viewers, which tool ...? Thanks!" ->
    "Dear viewers, which tool ...?"), else the text's first line."""
    spoken = spoken_text(text)
    for sentence in _SENTENCE_END.split(spoken):
        if sentence.rstrip("\"”' ").endswith("?"):
            return _unwrap(sentence)
    return one_line(text)


def whole_sentences(text: str) -> str:
    """``text`` without a last sentence that ``max_tokens`` cut off (no end punctuation),
    when a whole sentence comes before it."""
    sentences = _SENTENCE_END.split(text.strip())
    if len(sentences) > 1 and not re.search(r"[.!?…][\"”')]*$", sentences[-1]):
        return " ".join(sentences[:-1])
    return text


def keyword_hashtags(text: str, limit: int = 8) -> list[str]:
    """Hashtags from a list of keywords (numbered, bulleted, comma-separated, or
    hashtags already): each keyword of one to three words in lower case, joined, without
    its parenthesis ("AI (Artificial Intelligence)" -> ``#ai``); no tag twice."""
    text = _no_symbols(text)
    lines = text.strip().splitlines()
    if len(lines) > 1 and lines[0].rstrip().endswith(":"):  # "Here are five keywords:"
        text = "\n".join(lines[1:])
    text = _MARKDOWN.sub("", re.sub(r"\([^)]*\)", "", text))
    tags: list[str] = []
    for item in _ITEM_SPLIT.split(text):
        item = _NOT_WORD.sub(" ", item.replace("#", " ").lower())
        parts = item.split()
        if not parts or len(parts) > 3 or any(len(p) > 20 for p in parts):
            continue
        if all(p.isdigit() for p in parts):
            continue
        tag = "#" + "".join(parts)
        if tag not in tags and len(tag) > 2:
            tags.append(tag)
    return tags[:limit]


def short_title(text: str, max_words: int) -> str:
    """A title that runs on ("AI agents: a guide. In this video we...") cut at its first
    sentence end, colon or dash (else comma) that leaves 2 to ``max_words`` words."""
    if words(text) <= max_words:
        return text
    for splitter in (r"(?<=[.!?])\s+|\s*[:–—]\s+|\s+-\s+", r",\s+"):
        for part in re.split(splitter, text):
            if 2 <= words(part) <= max_words:
                return part.strip().rstrip(".")
    return text
