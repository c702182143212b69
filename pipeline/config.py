"""Settings: one pydantic model for every knob reelcal has.

Precedence, lowest to highest: defaults < ``reelcal.yaml`` (or the file given) <
``REELCAL_*`` environment variables < explicit arguments. Unknown keys and wrong
types raise :class:`~pipeline.errors.ConfigError` naming the key.

Example:
    .. code-block:: python

        from pipeline import Settings

        settings = Settings.load("reelcal.yaml", model="openai:gpt-4o")
        settings.max_calls    # from the file, the environment or the default
"""

from __future__ import annotations

import contextvars
from pathlib import Path
from typing import Any, Literal

import yaml
from pydantic import Field, ValidationError, field_validator, model_validator
from pydantic.fields import FieldInfo
from pydantic_settings import BaseSettings, PydanticBaseSettingsSource, SettingsConfigDict

from pipeline.errors import ConfigError, ScheduleError
from pipeline.platforms import read_platforms
from pipeline.schedule import read_slots, read_timezone

DEFAULT_CONFIG_FILE = "reelcal.yaml"
#: The bundled, offline embeddings (the bundled index was built with them).
DEFAULT_EMBEDDINGS = "local:all-MiniLM-L6-v2"
ENV_PREFIX = "REELCAL_"

# The YAML file a Settings.load() call reads; a context variable so that
# concurrent loads (threads, notebooks) never see each other's file.
_yaml_path: contextvars.ContextVar[Path | None] = contextvars.ContextVar(
    "reelcal_yaml_path", default=None
)


class Settings(BaseSettings):
    """Every setting reelcal reads, with its default and bounds."""

    model_config = SettingsConfigDict(
        env_prefix=ENV_PREFIX,
        extra="forbid",
        validate_default=True,
        case_sensitive=False,
    )

    # --- models
    model: str = Field(
        "llamacpp:smollm2",
        description="Chat model key: 'llamacpp:smollm2', 'llamacpp:/path/model.gguf', "
        "'openai:gpt-4o', 'anthropic:...', 'ollama:...'.",
    )
    supplement_model: str | None = Field(
        None, description="Model key for supplement calls; the main model when unset."
    )
    embeddings: str = Field(DEFAULT_EMBEDDINGS, description="Embeddings model key.")
    base_url: str | None = Field(
        None, description="Base URL of an OpenAI-compatible server (used with 'openai:' keys)."
    )
    temperature: float = Field(0.7, ge=0.0, le=2.0)
    n_threads: int | None = Field(
        None,
        ge=1,
        description=(
            "CPU threads for the local model; unset: prompts on every core, decoding on one "
            "core for a GGUF under 1 GB (faster for small models) and on every core otherwise."
        ),
    )
    structured_output: Literal["auto", "on", "off"] = Field(
        "auto",
        description="Use the model's structured output (auto: when it supports it; a small "
        "local GGUF, like the bundled one, writes in prose, one field at a time; on: a JSON "
        "grammar or tool call, required; off: pipe rows).",
    )

    # --- model limits (override the model's profile)
    context_window: int | None = Field(None, ge=256)
    max_output_tokens: int | None = Field(None, ge=16)

    # --- token budget
    safety_margin: int = Field(2000, ge=0, description="Tokens kept free in main calls.")
    supplement_safety_margin: int = Field(1000, ge=0, description="Same, supplement calls.")
    tokens_per_day: int | None = Field(
        None,
        ge=20,
        description="Starting estimate of output tokens per day, re-estimated after every "
        "round; unset: calibrated per output mode (tool call 400, local grammar 450, rows 360).",
    )
    reasoning_reserve: int = Field(
        2500,
        ge=0,
        description="Starting reserve for hidden reasoning tokens of reasoning models "
        "(o-series, gpt-5); learned from the reasoning tokens they report.",
    )
    reasoning_effort: Literal["minimal", "low", "medium", "high"] | None = Field(
        None,
        description="Passed to reasoning models that accept it (lower: smaller reserve).",
    )
    rag_token_budget: int = Field(1000, ge=0, description="Tokens of retrieved examples.")
    chunk_rag_token_budget: int = Field(
        300,
        ge=0,
        description="Tokens of examples retrieved for each chunk's outline lines, after the "
        "shared ones (only what the call's room allows; 0: none).",
    )

    # --- retrieval
    vectorstore: Path | None = Field(None, description="Index folder; the bundled one if unset.")
    per_creator_limit: int = Field(5, ge=1)
    retrieval_k: int = Field(4, ge=1, le=50, description="Documents per query.")
    min_similarity: float | None = Field(None, ge=-1.0, le=1.0)
    hybrid: bool = Field(False, description="Blend BM25 keyword scores with vector scores.")

    # --- the month engine
    max_stalled_rounds: int = Field(
        2,
        ge=1,
        le=20,
        description="Stop after this many rounds in a row that add no day (the run stays "
        "resumable).",
    )
    max_calls: int | None = Field(
        None,
        ge=1,
        description="Spend cap: model calls per run (and per resume). Unset: the calls the "
        "days need at the starting tokens_per_day, plus one per day (each day may be asked "
        "for once more on its own).",
    )
    max_reasks: int = Field(
        1,
        ge=0,
        le=10,
        description="Re-asks of a day whose rows broke only soft content rules (word "
        "counts, hashtags, a title like another's): then its best row is kept and named "
        "in the notes; or whose one-day reply was cut at the most its call could ask for, "
        "with no more room to make: then it is named missing. Hard breaks (an empty field, "
        "a copied passage) are re-asked until the run stalls.",
    )
    # --- content rules (pipeline.generation.review.rules): checked on every row, re-asked
    hook_max_words: int = Field(8, ge=2, le=30, description="Words of the hook (cover text).")
    script_words: tuple[int, int] | None = Field(
        None,
        description="Words of a script, [min, max]; unset: 120-250 for hosted models, "
        "5-80 for the local model (its grammar holds scripts to those bounds).",
    )
    caption_max_chars: int = Field(2200, ge=50, description="Instagram's caption limit.")
    strict: bool = Field(
        True,
        description="Re-ask every day that breaks a content rule; false: keep a day that "
        "breaks only soft rules (length, hashtags, a repeated title), flagged.",
    )

    # --- the month outline (pipeline.generation.outline.stage): planned before any reel
    outline: bool = Field(
        True,
        description="Plan the month first (a title, pillar, format and series per day) "
        "and write each day from its line; false: write the days without a plan.",
    )
    content_pillars: list[str] = Field(
        default_factory=list,
        description="The month's content pillars; unset: the outline call picks 3 to 5 "
        "from the niche.",
    )
    pillar_mix: dict[str, float] | None = Field(
        None, description="Share of the days per pillar, e.g. {Education: 0.5, Proof: 0.5}."
    )
    title_similarity: float = Field(
        0.9,
        ge=0.5,
        le=1.0,
        description="Two titles whose embeddings are at least this similar (cosine) count "
        "as the same idea.",
    )

    speed: Literal["fast", "balanced", "economical"] = Field(
        "balanced",
        description="Chunk size for wall time or cost: fast = the days spread over up to 8 "
        "calls at once, balanced = up to 4, economical = fewest calls (as many days per "
        "call as fit), 2 at once. The local model writes 2 days a call, one call at a time. "
        "The outline is one call (as many as fit), split like the days only with fast.",
    )
    max_concurrency: int | None = Field(
        None, ge=1, le=64, description="Model calls at once; unset: from speed (8, 4, 2)."
    )
    requests_per_second: float | None = Field(
        None,
        gt=0,
        description="Rate limit of model requests, shared by every run in the process that "
        "uses the same provider and key (langchain-core's InMemoryRateLimiter). Off when unset.",
    )
    max_retries: int = Field(3, ge=0, le=10, description="Retries of transient errors per call.")
    cache: Path | None = Field(
        None,
        description="SQLite file of a model response cache (JSON rows, "
        "pipeline.models.cache): a rerun of identical prompts is answered from it, free; "
        "such calls are marked cached in the usage and not counted as paid. Off when unset.",
    )
    request_timeout: float = Field(
        600.0,
        gt=0,
        le=3600,
        description="Seconds to wait for one hosted or server reply; a slower reply is a "
        "timeout, retried like other transient errors.",
    )
    output_dir: Path = Field(
        Path("reelcal-output"),
        description="Where partial calendars go, and runs/ (the checkpoints of resumable runs).",
    )

    # --- content
    niche: str = Field("creator economy", description="The account's niche.")
    platform: str = Field(
        "Instagram Reels",
        description="The platform named in prompts when `platforms` is unset (a free name).",
    )
    platforms: list[str] | None = Field(
        None,
        description="Where posts go: instagram, tiktok, youtube_shorts; the first is primary "
        "(caption and hashtag columns), each other gets its own copy.",
    )

    # --- when posts go out
    timezone: str = Field("UTC", description="IANA time zone of the posting slots.")
    posting_slots: dict[str, list[str]] | None = Field(
        None,
        description="Weekday -> local times, e.g. {mon: ['18:00'], wed: ['12:00', '19:00']}; "
        "each slot is one post. Unset: one post a day at the primary platform's default time.",
    )
    posts_per_week: int | None = Field(
        None, ge=1, le=7, description="Posts a week, spread evenly from Monday (3: Mon/Wed/Fri)."
    )
    country: str = Field("US", description="Country code for holidays.")
    subdivision: str | None = Field(
        None, description="State or region code for regional holidays (e.g. 'CA', 'BY')."
    )
    awareness_file: Path | None = Field(
        None, description="A YAML file of your own special dates, added to the bundled ones."
    )

    @field_validator("timezone")
    @classmethod
    def _known_zone(cls, value: str) -> str:
        return _as_value_error(read_timezone, value)

    @field_validator("posting_slots")
    @classmethod
    def _readable_slots(cls, value: dict[str, list[str]] | None) -> dict[str, list[str]] | None:
        return _as_value_error(lambda v: read_slots(posting_slots=v), value) if value else None

    @field_validator("platforms")
    @classmethod
    def _known_platforms(cls, value: list[str] | None) -> list[str] | None:
        return _as_value_error(read_platforms, value) if value else None

    @model_validator(mode="after")
    def _check_pillar_mix(self) -> Settings:
        if self.pillar_mix:
            unknown = sorted(set(self.pillar_mix) - set(self.content_pillars))
            if unknown:
                raise ValueError(
                    f"pillar_mix names {unknown}, which are not in content_pillars: list "
                    f"every pillar of pillar_mix in content_pillars."
                )
            if any(share < 0 for share in self.pillar_mix.values()):
                raise ValueError("pillar_mix shares must be 0 or more (e.g. 0.4).")
        return self

    @classmethod
    def settings_customise_sources(
        cls,
        settings_cls: type[BaseSettings],
        init_settings: PydanticBaseSettingsSource,
        env_settings: PydanticBaseSettingsSource,
        dotenv_settings: PydanticBaseSettingsSource,
        file_secret_settings: PydanticBaseSettingsSource,
    ) -> tuple[PydanticBaseSettingsSource, ...]:
        return (init_settings, env_settings, _YamlFileSource(settings_cls))

    @classmethod
    def load(cls, config: str | Path | None = None, **overrides: Any) -> Settings:
        """Read settings from ``config`` (or ``./reelcal.yaml`` when it exists), the
        environment and ``overrides``; ``None`` overrides are ignored.

        Raises:
            ConfigError: a missing config file, an unknown key or a bad value.
        """
        path: Path | None
        if config is not None:
            path = Path(config).expanduser()
            if not path.is_file():
                raise ConfigError(
                    f"Config file {str(path)!r} not found: give an existing YAML file "
                    f"or leave --config out."
                )
        else:
            default = Path(DEFAULT_CONFIG_FILE)
            path = default if default.is_file() else None
        token = _yaml_path.set(path)
        try:
            return cls(**{k: v for k, v in overrides.items() if v is not None})
        except ValidationError as exc:
            raise ConfigError(_describe(exc, path)) from None
        finally:
            _yaml_path.reset(token)

    def public_dict(self) -> dict[str, Any]:
        """Settings as plain data for run records (holds no secrets by design)."""
        return self.model_dump(mode="json")


def _as_value_error(check: Any, value: Any) -> Any:
    """``check(value)``, its one-line error as a ValueError (pydantic reports it with the key)."""
    try:
        return check(value)
    except (ScheduleError, ConfigError) as exc:
        raise ValueError(str(exc)) from None


class _YamlFileSource(PydanticBaseSettingsSource):
    """Reads the YAML file chosen by :meth:`Settings.load`."""

    def get_field_value(self, field: FieldInfo, field_name: str) -> tuple[Any, str, bool]:
        # Unused: __call__ returns the whole mapping at once.
        return None, field_name, False

    def __call__(self) -> dict[str, Any]:
        path = _yaml_path.get()
        if path is None:
            return {}
        try:
            data = yaml.safe_load(path.read_text(encoding="utf-8"))
        except yaml.YAMLError as exc:
            mark = getattr(exc, "problem_mark", None)
            where = f" at line {mark.line + 1}" if mark else ""
            raise ConfigError(f"{path} is not valid YAML{where}: fix the syntax.") from None
        if data is None:
            return {}
        if not isinstance(data, dict):
            raise ConfigError(f"{path} must be a mapping of setting: value, not a list or text.")
        unknown = sorted(str(k) for k in data if str(k) not in Settings.model_fields)
        if unknown:
            raise ConfigError(
                f"Unknown setting {unknown[0]!r} in {path}: valid settings are "
                f"{', '.join(Settings.model_fields)}."
            )
        return data


def _describe(exc: ValidationError, path: Path | None) -> str:
    """One line naming the first bad key, where it came from and what is expected."""
    err = exc.errors()[0]
    key = ".".join(str(p) for p in err["loc"]) or "?"
    if err["type"] == "extra_forbidden":
        return f"Unknown setting {key!r}: valid settings are {', '.join(Settings.model_fields)}."
    source = (
        f"{path}, ${ENV_PREFIX}{key.upper()} or an argument"
        if path
        else (f"${ENV_PREFIX}{key.upper()} or an argument")
    )
    more = f" (and {len(exc.errors()) - 1} more)" if len(exc.errors()) > 1 else ""
    message = err["msg"].removeprefix("Value error, ").rstrip(".")
    return f"Setting {key!r} = {err.get('input')!r} ({source}): {message}{more}."
