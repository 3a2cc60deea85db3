"""The bot's configuration, read from the environment and a ``.env`` file."""

from __future__ import annotations

from pathlib import Path
from typing import Any, Literal
from urllib.parse import urlsplit

from pydantic import Field, SecretStr, ValidationError, field_validator
from pydantic_core import PydanticCustomError
from pydantic_settings import BaseSettings, SettingsConfigDict

from bot.models import Provider
from bot.models.urls import check_public_https
from bot.providers.registry import base_url_settings
from bot.providers.seed2_description import SEED2
from bot.providers.seedance2ai_description import SEEDANCE2AI
from bot.providers.seedanceapi_description import SEEDANCEAPI

LogLevel = Literal["DEBUG", "INFO", "WARNING", "ERROR"]


class Settings(BaseSettings):
    """Every setting the bot reads; each field's env variable is its name in upper case."""

    model_config = SettingsConfigDict(
        env_file=".env",
        env_file_encoding="utf-8",
        extra="ignore",
        case_sensitive=False,
        # `DISCORD_TOKEN=` copied from .env.example should read as "not set", not as a token.
        env_ignore_empty=True,
    )

    discord_token: SecretStr
    database_path: Path = Path("data/bot.sqlite3")
    key_encryption_secret: SecretStr | None = None
    #: The secret before a rotation: keys under it are re-encrypted at start-up.
    key_encryption_secret_previous: SecretStr | None = None
    #: Running jobs per member; more wait in a queue, in order.
    max_jobs_per_user: int = Field(default=3, ge=1, le=100)
    #: Jobs one member can have waiting (queued, not sent yet); more are refused, not queued.
    max_waiting_jobs_per_user: int = Field(default=10, ge=1, le=1000)
    #: Requests per minute per key for providers that document no limit (seedanceapi, seed2).
    default_requests_per_minute: int = Field(default=20, ge=1, le=600)
    # The documented base URLs, one per provider description (its ``base_url_setting``). Each works
    # with or without the API's version path (seedance2ai ``/api/v1``, seedanceapi and seed2
    # ``/v1``): the provider client adds it when it is missing.
    seedance2ai_base_url: str = SEEDANCE2AI.default_base_url
    seedanceapi_base_url: str = SEEDANCEAPI.default_base_url
    seed2_base_url: str = SEED2.default_base_url
    log_level: LogLevel = "INFO"
    http_timeout_seconds: float = Field(default=30.0, gt=0, allow_inf_nan=False)
    #: Result files may be downloaded over plain http (local test servers); https only when off.
    allow_http_downloads: bool = False
    #: Register the commands to this one server (instant) instead of globally.
    discord_guild_id: int | None = Field(default=None, gt=0)
    #: Discord's REST API; another value points the bot at a REST proxy or a local stand-in.
    discord_api_url: str = "https://discord.com/api/v10"
    #: Discord's gateway; another value points the bot at a gateway proxy or a local stand-in.
    discord_gateway_url: str = "wss://gateway.discord.gg/"
    #: Port of the built-in HTTP server (health, metrics); unset: no server.
    http_port: int | None = Field(default=None, ge=1, le=65535)
    #: Address the HTTP server binds to; 0.0.0.0 in the Docker image.
    http_host: str = "127.0.0.1"
    #: The bot's externally reachable https base URL (a reverse proxy in front of the HTTP
    #: server); with ``http_port``, providers that call back get a URL below it for each job.
    public_url: str | None = None

    @field_validator("discord_token")
    @classmethod
    def _token_not_blank(cls, value: SecretStr) -> SecretStr:
        # Stray spaces or a trailing newline from copy-paste would make Discord reject the token.
        token = value.get_secret_value().strip()
        if not token:
            raise PydanticCustomError("blank", "it is blank")
        return SecretStr(token)

    @field_validator("key_encryption_secret", "key_encryption_secret_previous", mode="before")
    @classmethod
    def _blank_secret_is_unset(cls, value: Any) -> Any:
        if isinstance(value, str) and not value.strip():
            return None
        return value

    @field_validator(*base_url_settings().values(), "discord_api_url")
    @classmethod
    def _http_base_url(cls, value: str) -> str:
        # http is allowed on purpose: tests and self-hosted proxies listen on localhost.
        url = value.strip()
        try:
            parts = urlsplit(url)
            parts.port  # noqa: B018 - parsing the port is what rejects "host:notaport"
        except ValueError as exc:
            raise PydanticCustomError(
                "base_url", "not a URL ({reason})", {"reason": str(exc)}
            ) from exc
        if parts.scheme not in {"http", "https"}:
            raise PydanticCustomError("base_url", "must start with http:// or https://")
        if not parts.hostname:
            raise PydanticCustomError("base_url", "has no host name")
        if parts.query or parts.fragment:
            raise PydanticCustomError("base_url", "must not contain a query or a fragment")
        return url.rstrip("/")

    @field_validator("public_url")
    @classmethod
    def _public_https_url(cls, value: str | None) -> str | None:
        # https and a public host only: providers refuse anything else (localhost, plain http).
        if value is None:
            return None
        url = check_public_https(value.strip())
        parts = urlsplit(url)
        if parts.query or parts.fragment:
            raise PydanticCustomError("public_url", "must not contain a query or a fragment")
        return url.rstrip("/")

    @field_validator("discord_gateway_url")
    @classmethod
    def _websocket_url(cls, value: str) -> str:
        url = value.strip()
        parts = urlsplit(url)
        if parts.scheme not in {"ws", "wss"} or not parts.hostname:
            raise PydanticCustomError("gateway_url", "must be a ws:// or wss:// URL with a host")
        return url

    @field_validator("log_level", mode="before")
    @classmethod
    def _upper_case_level(cls, value: Any) -> Any:
        return value.strip().upper() if isinstance(value, str) else value

    def base_urls(self) -> dict[Provider, str]:
        """Where each provider's API lives (documented defaults, or a proxy / local fake)."""
        return {
            provider: str(getattr(self, setting))
            for provider, setting in base_url_settings().items()
        }

    def secrets(self) -> list[str]:
        """The configured secret values, for the log redactor."""
        found = [self.discord_token.get_secret_value()]
        for secret in (self.key_encryption_secret, self.key_encryption_secret_previous):
            if secret is not None:
                found.append(secret.get_secret_value())
        return found


def load_settings(**overrides: Any) -> Settings:
    """Read the settings; keyword ``overrides`` win over the environment and ``.env``."""
    return Settings(**overrides)


_HOW_TO_SET_IT = "put DISCORD_TOKEN=<your bot token> in .env or the environment"


def env_name(field: str) -> str:
    """The environment variable that sets ``field``."""
    return field.upper()


def describe_settings_error(error: ValidationError) -> str:
    """One line naming each bad environment variable, safe to print (never echoes the values)."""
    problems: list[str] = []
    for item in error.errors(include_input=False, include_url=False):
        name = env_name(str(item["loc"][0])) if item["loc"] else "settings"
        if name == "DISCORD_TOKEN" and item["type"] in {"missing", "blank"}:
            state = "is not set" if item["type"] == "missing" else "is blank"
            problems.append(f"DISCORD_TOKEN {state}: {_HOW_TO_SET_IT}")
        elif item["type"] == "missing":
            problems.append(f"{name} is not set")
        else:
            problems.append(f"{name} is invalid: {item['msg']}")
    return "; ".join(problems)
