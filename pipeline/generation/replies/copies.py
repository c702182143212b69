"""Reading a post's platform copies from a reply: the ``copies`` object of a row, keyed
by platform key or name, as :class:`~pipeline.calendar.PlatformCopy` s."""

from __future__ import annotations

from collections.abc import Sequence
from typing import Any

from pydantic import ValidationError

from pipeline.calendar import PlatformCopy
from pipeline.errors import ConfigError
from pipeline.platforms import platform_key


def read_copies(value: Any, keys: Sequence[str]) -> dict[str, PlatformCopy]:
    """The copies of ``keys`` in a reply's ``copies`` value (an object keyed by platform
    key or name); a missing or malformed one is left out (the rules then ask for it)."""
    if not isinstance(value, dict):
        return {}
    by_key = {_platform_of(str(k)): v for k, v in value.items()}
    found = {}
    for key in keys:
        data = by_key.get(key)
        if isinstance(data, dict):
            try:
                found[key] = PlatformCopy.model_validate(
                    {k: data[k] for k in ("caption", "hashtags", "title") if k in data}
                )
            except ValidationError:
                continue
    return found


def _platform_of(name: str) -> str | None:
    try:
        return platform_key(name)
    except ConfigError:
        return None
