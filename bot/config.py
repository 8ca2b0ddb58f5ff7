"""Configuration: a YAML file plus RECONNECT_* environment overrides (``__`` nests).

A bad config stops start-up with one line naming the key and the problem
(:class:`ConfigError`); the CLI turns it into a non-zero exit.
"""

from __future__ import annotations

import logging
import os
import re
from pathlib import Path
from typing import Any, Literal
from zoneinfo import ZoneInfo, ZoneInfoNotFoundError

import yaml
from pydantic import BaseModel, Field, ValidationError, field_validator, model_validator
from pydantic_settings import BaseSettings, PydanticBaseSettingsSource, SettingsConfigDict

log = logging.getLogger(__name__)
MATRIX_ID = re.compile(r"^@[a-z0-9._=\-/+]+:[A-Za-z0-9.\-]+(:\d+)?$")


class ConfigError(Exception):
    """A config problem, phrased as one line that names the key."""


def _check_matrix_id(value: str) -> str:
    if not MATRIX_ID.match(value):
        raise ValueError(f"{value!r} is not a Matrix user id like @name:server")
    return value


def _check_zone(value: str) -> str:
    try:
        ZoneInfo(value)
    except (ZoneInfoNotFoundError, ValueError):
        raise ValueError(f"{value!r} is not an IANA time zone such as Europe/Oslo") from None
    return value


def _check_offset(value: str) -> str:
    from bot.durations import parse_offset
    from bot.errors import Invalid

    try:
        parse_offset(value)
    except Invalid:
        raise ValueError(f"{value!r} is not an offset like 3d, 2h, 30s or day-of 09:00") from None
    return value


class HomeserverConfig(BaseModel):
    url: str = Field(description="Client-server API base URL")

    @field_validator("url")
    @classmethod
    def _url(cls, v: str) -> str:
        if not re.match(r"^https?://[^\s/]+", v):
            raise ValueError(f"{v!r} is not an http(s) URL")
        return v.rstrip("/")


class CommandRateConfig(BaseModel):
    """A per-person token bucket for commands (staff and safety commands are not limited)."""

    enabled: bool = True
    # Commands a person may send in a row before the limit applies.
    burst: int = Field(default=10, ge=1, le=1000)
    # Commands per minute on average after that (the bucket refills at this rate).
    per_minute: float = Field(default=30.0, gt=0, le=6000)


class BotConfig(BaseModel):
    user_id: str
    password: str | None = None
    # Instead of a password (e.g. behind Matrix Authentication Service / OIDC): a token issued to
    # one device, and that device's id. The crypto store in data_dir must belong to that device.
    access_token: str | None = None
    device_id: str | None = None
    device_name: str = "ReConnect bot"
    command_prefix: str = "!"
    # Servers whose users may invite the bot; empty means "the bot's own server".
    accept_invites_from: list[str] = Field(default_factory=list)
    # Messages older than this when first seen (e.g. after downtime) get no action.
    max_event_age_seconds: int = Field(default=6 * 3600, ge=0)
    display_name: str = "ReConnect"
    # Rooms the outbox sends to at the same time (each room keeps its order).
    send_concurrency: int = Field(default=4, ge=1, le=32)
    # One person's commands over this rate get one "slow down" and are then dropped.
    command_rate: CommandRateConfig = Field(default_factory=CommandRateConfig)

    @field_validator("user_id")
    @classmethod
    def _uid(cls, v: str) -> str:
        return _check_matrix_id(v)

    @field_validator("command_prefix")
    @classmethod
    def _prefix(cls, v: str) -> str:
        if not v or len(v) > 3 or any(c.isspace() for c in v):
            raise ValueError("must be 1-3 non-space characters")
        return v

    @model_validator(mode="after")
    def _token_needs_device(self) -> "BotConfig":
        if self.access_token and not self.device_id:
            raise ValueError("bot.device_id is needed with bot.access_token (the device the token was issued to)")
        if self.device_id and not self.access_token:
            raise ValueError("bot.device_id is only used with bot.access_token")
        return self

    @property
    def server_name(self) -> str:
        return self.user_id.split(":", 1)[1]


class StorageConfig(BaseModel):
    data_dir: Path = Path("data")
    database_url: str | None = None
    # None: a systemd credential ``content.key``, else ``secrets/content.key`` beside data_dir
    # (see bot.contentkey); never inside data_dir by default.
    encryption_key_file: Path | None = None

    def resolved_database_url(self) -> str:
        if self.database_url:
            return self.database_url
        return f"sqlite:///{(self.data_dir / 'reconnect.db').resolve()}"


class PeopleConfig(BaseModel):
    admins: list[str] = Field(default_factory=list)
    consultants: list[str] = Field(default_factory=list)

    @field_validator("admins", "consultants")
    @classmethod
    def _ids(cls, v: list[str]) -> list[str]:
        return [_check_matrix_id(x) for x in v]


class Link(BaseModel):
    title: str
    url: str


class CommunityConfig(BaseModel):
    name: str
    timezone: str = "Europe/Oslo"
    links: list[Link] = Field(default_factory=list)

    @field_validator("name")
    @classmethod
    def _name(cls, v: str) -> str:
        if not re.match(r"^[\w][\w \-]{0,31}$", v):
            raise ValueError("must be 1-32 letters, digits, spaces or '-'")
        return v

    @field_validator("timezone")
    @classmethod
    def _tz(cls, v: str) -> str:
        return _check_zone(v)


class CrisisNumber(BaseModel):
    # Per language, ``{en: ..., nb: ...}``; a plain string serves every language.
    label: dict[str, str]
    number: str

    @field_validator("label", mode="before")
    @classmethod
    def _every_language(cls, value: object) -> object:
        if isinstance(value, str):
            return {"en": value, "nb": value}
        if isinstance(value, dict) and not value:
            raise ValueError("give the label in at least one language, e.g. {en: ..., nb: ...}")
        return value

    def label_in(self, lang: str) -> str:
        """The label in ``lang``, else in English, else in whichever language it has."""
        return self.label.get(lang) or self.label.get("en") or next(iter(self.label.values()))


def _norway_numbers() -> list[CrisisNumber]:
    return [
        CrisisNumber(label={"en": "Emergency medical help (AMK)", "nb": "Medisinsk nødtelefon (AMK)"}, number="113"),
        CrisisNumber(label={"en": "Out-of-hours doctor (legevakt)", "nb": "Legevakt"}, number="116 117"),
        CrisisNumber(label={"en": "Mental Helse helpline", "nb": "Mental Helse hjelpetelefon"}, number="116 123"),
        CrisisNumber(label={"en": "Kirkens SOS crisis line", "nb": "Kirkens SOS krisetelefon"}, number="22 40 00 40"),
    ]


class CrisisConfig(BaseModel):
    numbers: list[CrisisNumber] = Field(default_factory=_norway_numbers)
    alert_period_minutes: int = Field(default=60, ge=0)
    phrases_dir: Path | None = None

    @field_validator("phrases_dir")
    @classmethod
    def _phrases(cls, v: Path | None) -> Path | None:
        if v is None:
            return v
        if not v.is_dir():
            raise ValueError(f"'{v}' is not a folder (it must hold en.txt and nb.txt)")
        for lang in ("en", "nb"):
            path = v / f"{lang}.txt"
            if not path.is_file():
                raise ValueError(f"'{v}' has no {lang}.txt (one crisis phrase per line)")
            phrases = [line.split("#", 1)[0].strip() for line in path.read_text(encoding="utf-8").splitlines()]
            if not any(phrases):
                log.warning("config key 'crisis.phrases_dir': %s holds no phrases; crisis language in %s "
                            "will not be recognised", path, lang)
        return v


class ModerationConfig(BaseModel):
    # Staffed hours of the consultant, e.g. "mon-fri 09:00-15:00, sat 10:00-12:00", in staffed_timezone.
    staffed_hours: str = "mon-fri 09:00-15:00"
    staffed_timezone: str = "Europe/Oslo"
    auto_hide_reports: int = Field(default=3, ge=2)
    reveal_expiry_hours: int = Field(default=72, ge=1)
    # How many identity reveals and new circles one participant may start per day (24 hours).
    reveals_per_day: int = Field(default=5, ge=1, le=100)
    circles_per_day: int = Field(default=2, ge=1, le=50)

    @field_validator("staffed_hours")
    @classmethod
    def _hours(cls, v: str) -> str:
        from bot.errors import Invalid
        from bot.weekhours import parse_hours

        try:
            parse_hours(v)
        except Invalid:
            raise ValueError(f"{v!r} is not weekly hours like 'mon-fri 09:00-15:00'") from None
        return v

    @field_validator("staffed_timezone")
    @classmethod
    def _zone(cls, v: str) -> str:
        return _check_zone(v)


class ScheduleConfig(BaseModel):
    cafe_room_reminders: list[str] = Field(default_factory=lambda: ["3d", "day-of 09:00"])
    cafe_private_reminder: str = "2h"
    grace_period_hours: float = Field(default=6.0, ge=0)
    confidentiality_interval_days: float = Field(default=14.0, gt=0)
    prompt_days_before: int = Field(default=3, ge=0)
    digest_time: str = "08:30"
    digest_timezone: str = "Europe/Oslo"
    unanswered_hours: int = Field(default=24, ge=1)

    @field_validator("cafe_room_reminders")
    @classmethod
    def _offsets(cls, v: list[str]) -> list[str]:
        return [_check_offset(x) for x in v]

    @field_validator("cafe_private_reminder")
    @classmethod
    def _offset(cls, v: str) -> str:
        return _check_offset(v)

    @field_validator("digest_time")
    @classmethod
    def _clock(cls, v: str) -> str:
        m = re.fullmatch(r"(\d{1,2}):(\d{2})", v.strip())
        if m is None or int(m.group(1)) > 23 or int(m.group(2)) > 59:
            raise ValueError(f"{v!r} is not a time like 08:30")
        return v.strip()

    @field_validator("digest_timezone")
    @classmethod
    def _zone(cls, v: str) -> str:
        return _check_zone(v)


class HttpConfig(BaseModel):
    enabled: bool = True
    host: str = "127.0.0.1"
    port: int = Field(default=9108, ge=0, le=65535)


class Settings(BaseSettings):
    model_config = SettingsConfigDict(
        env_prefix="RECONNECT_", env_nested_delimiter="__", extra="forbid"
    )

    homeserver: HomeserverConfig
    bot: BotConfig
    storage: StorageConfig = Field(default_factory=StorageConfig)
    people: PeopleConfig = Field(default_factory=PeopleConfig)
    communities: list[CommunityConfig] = Field(default_factory=list)
    language: Literal["en", "nb"] = "en"
    crisis: CrisisConfig = Field(default_factory=CrisisConfig)
    moderation: ModerationConfig = Field(default_factory=ModerationConfig)
    schedules: ScheduleConfig = Field(default_factory=ScheduleConfig)
    http: HttpConfig = Field(default_factory=HttpConfig)
    log_level: Literal["DEBUG", "INFO", "WARNING", "ERROR"] = "INFO"

    @classmethod
    def settings_customise_sources(
        cls,
        settings_cls: type[BaseSettings],
        init_settings: PydanticBaseSettingsSource,
        env_settings: PydanticBaseSettingsSource,
        dotenv_settings: PydanticBaseSettingsSource,
        file_secret_settings: PydanticBaseSettingsSource,
    ) -> tuple[PydanticBaseSettingsSource, ...]:
        # Environment wins over the YAML file (passed as init kwargs).
        return (env_settings, init_settings)

    @model_validator(mode="after")
    def _unique_communities(self) -> "Settings":
        names = [c.name.lower() for c in self.communities]
        if len(names) != len(set(names)):
            raise ValueError("communities: two communities have the same name")
        return self

    def community(self, name: str) -> CommunityConfig | None:
        for c in self.communities:
            if c.name.lower() == name.strip().lower():
                return c
        return None


def _merge_env(data: dict[str, Any]) -> dict[str, Any]:
    """Merge RECONNECT_* variables into the YAML data so env overrides single nested keys."""
    merged = dict(data)
    for key, value in os.environ.items():
        if not key.startswith("RECONNECT_") or key == "RECONNECT_CONFIG":
            continue
        path = [p.lower() for p in key[len("RECONNECT_"):].split("__") if p]
        node = merged
        for part in path[:-1]:
            child = node.get(part)
            if not isinstance(child, dict):
                child = {}
            node[part] = child = dict(child)
            node = child
        if path:
            try:
                parsed = yaml.safe_load(value)
            except yaml.YAMLError:
                parsed = value
            node[path[-1]] = value if isinstance(parsed, (dict,)) else parsed
    return merged


def _describe(err: ValidationError) -> str:
    first = err.errors()[0]
    key = ".".join(str(p) for p in first["loc"]) or "(top level)"
    msg = first["msg"]
    if first["type"] == "missing":
        msg = "is required but missing"
    elif first["type"] == "extra_forbidden":
        msg = "is not a known setting (check the spelling against config.example.yaml)"
    else:
        msg = msg.removeprefix("Value error, ")
    return f"config key '{key}': {msg}"


def load_config(path: str | Path | None) -> Settings:
    """Read the YAML file (if any), apply environment overrides, validate."""
    data: dict[str, Any] = {}
    if path is not None:
        p = Path(path)
        if not p.exists():
            raise ConfigError(f"config file '{p}' does not exist")
        try:
            loaded = yaml.safe_load(p.read_text(encoding="utf-8"))
        except yaml.YAMLError as exc:
            mark = getattr(exc, "problem_mark", None)
            where = f" at line {mark.line + 1}" if mark else ""
            raise ConfigError(f"config file '{p}' is not valid YAML{where}") from None
        if loaded is None:
            loaded = {}
        if not isinstance(loaded, dict):
            raise ConfigError(f"config file '{p}' must hold a mapping of keys")
        data = loaded
    data = _merge_env(data)
    try:
        # Env already merged; disable the env source to avoid double parsing.
        return _FileSettings(**data)
    except ValidationError as exc:
        raise ConfigError(_describe(exc)) from None


class _FileSettings(Settings):
    @classmethod
    def settings_customise_sources(
        cls,
        settings_cls: type[BaseSettings],
        init_settings: PydanticBaseSettingsSource,
        env_settings: PydanticBaseSettingsSource,
        dotenv_settings: PydanticBaseSettingsSource,
        file_secret_settings: PydanticBaseSettingsSource,
    ) -> tuple[PydanticBaseSettingsSource, ...]:
        return (init_settings,)
