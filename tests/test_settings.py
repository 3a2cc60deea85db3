"""Settings: defaults, environment and .env, URL checks, the one-line error, secrets kept secret."""

from __future__ import annotations

from pathlib import Path

import pytest
from pydantic import ValidationError

from bot.settings import Settings, describe_settings_error, load_settings

TOKEN = "MTIzNDU2Nzg5MDEyMzQ1Njc4.GhIjKl.abcdefghijklmnopqrstuvwxyz0123"


@pytest.fixture(autouse=True)
def clean_env(monkeypatch: pytest.MonkeyPatch, tmp_path: Path) -> Path:
    """No setting leaks in from the developer's shell or a .env in the project root."""
    for field in Settings.model_fields:
        monkeypatch.delenv(field.upper(), raising=False)
    monkeypatch.chdir(tmp_path)
    return tmp_path


def error_line(**overrides: object) -> str:
    with pytest.raises(ValidationError) as caught:
        load_settings(**overrides)
    return describe_settings_error(caught.value)


def test_defaults(monkeypatch: pytest.MonkeyPatch) -> None:
    monkeypatch.setenv("DISCORD_TOKEN", TOKEN)
    settings = load_settings()
    assert settings.discord_token.get_secret_value() == TOKEN
    assert settings.database_path == Path("data/bot.sqlite3")
    assert settings.key_encryption_secret is None
    assert settings.seedance2ai_base_url == "https://seedance2ai.io"
    assert settings.seedanceapi_base_url == "https://seedanceapi.org/v1"
    assert settings.seed2_base_url == "https://api.seed2.io"
    assert settings.log_level == "INFO"
    assert settings.http_timeout_seconds == 30.0


def test_environment_overrides_every_default(monkeypatch: pytest.MonkeyPatch) -> None:
    env = {
        "DISCORD_TOKEN": TOKEN,
        "DATABASE_PATH": "/data/other.sqlite3",
        "KEY_ENCRYPTION_SECRET": "a-long-encryption-secret",
        "SEEDANCE2AI_BASE_URL": "http://127.0.0.1:8081",
        "SEEDANCEAPI_BASE_URL": "http://127.0.0.1:8082/v1",
        "SEED2_BASE_URL": "https://proxy.example.com/seed2",
        "LOG_LEVEL": "debug",
        "HTTP_TIMEOUT_SECONDS": "12.5",
    }
    for name, value in env.items():
        monkeypatch.setenv(name, value)
    settings = load_settings()
    assert settings.database_path == Path("/data/other.sqlite3")
    assert settings.key_encryption_secret is not None
    assert settings.key_encryption_secret.get_secret_value() == "a-long-encryption-secret"
    assert settings.seedance2ai_base_url == "http://127.0.0.1:8081"
    assert settings.seedanceapi_base_url == "http://127.0.0.1:8082/v1"
    assert settings.seed2_base_url == "https://proxy.example.com/seed2"
    assert settings.log_level == "DEBUG"
    assert settings.http_timeout_seconds == 12.5


def test_lower_case_env_names_work(monkeypatch: pytest.MonkeyPatch) -> None:
    monkeypatch.setenv("discord_token", TOKEN)
    monkeypatch.setenv("log_level", "warning")
    settings = load_settings()
    assert settings.discord_token.get_secret_value() == TOKEN
    assert settings.log_level == "WARNING"


def test_dotenv_file_is_read(clean_env: Path) -> None:
    (clean_env / ".env").write_text(
        f"DISCORD_TOKEN={TOKEN}\nSEED2_BASE_URL=http://localhost:9000/\nLOG_LEVEL=error\n"
    )
    settings = load_settings()
    assert settings.discord_token.get_secret_value() == TOKEN
    assert settings.seed2_base_url == "http://localhost:9000"
    assert settings.log_level == "ERROR"


def test_environment_wins_over_dotenv(clean_env: Path, monkeypatch: pytest.MonkeyPatch) -> None:
    (clean_env / ".env").write_text(f"DISCORD_TOKEN={TOKEN}\nLOG_LEVEL=ERROR\n")
    monkeypatch.setenv("LOG_LEVEL", "DEBUG")
    assert load_settings().log_level == "DEBUG"


def test_copied_example_with_empty_values_reports_missing_token(clean_env: Path) -> None:
    (clean_env / ".env").write_text("DISCORD_TOKEN=\nKEY_ENCRYPTION_SECRET=\n")
    line = error_line()
    assert line.startswith("DISCORD_TOKEN is not set")


def test_empty_encryption_secret_means_unset(monkeypatch: pytest.MonkeyPatch) -> None:
    settings = load_settings(discord_token=TOKEN, key_encryption_secret="   ")
    assert settings.key_encryption_secret is None


def test_token_is_stripped_and_blank_token_rejected() -> None:
    assert load_settings(discord_token=f"  {TOKEN}\n").discord_token.get_secret_value() == TOKEN
    assert error_line(discord_token="   ").startswith("DISCORD_TOKEN is blank: put DISCORD_TOKEN=")


@pytest.mark.parametrize(
    ("given", "stored"),
    [
        ("https://seedance2ai.io/", "https://seedance2ai.io"),
        ("https://seedanceapi.org/v1//", "https://seedanceapi.org/v1"),
        ("http://localhost:8080", "http://localhost:8080"),
        (" https://api.seed2.io ", "https://api.seed2.io"),
    ],
)
def test_base_url_is_normalised(given: str, stored: str) -> None:
    assert load_settings(discord_token=TOKEN, seed2_base_url=given).seed2_base_url == stored


@pytest.mark.parametrize(
    ("field", "root", "version"),
    [
        ("seedance2ai_base_url", "https://seedance2ai.io", "/api/v1"),
        ("seedanceapi_base_url", "https://seedanceapi.org", "/v1"),
        ("seed2_base_url", "https://api.seed2.io", "/v1"),
    ],
)
def test_base_url_is_accepted_with_or_without_its_version_path(
    field: str, root: str, version: str
) -> None:
    # Stored as written: the provider client adds the version path when it is missing.
    for given in (root, root + version, root + version + "/"):
        settings = load_settings(discord_token=TOKEN, **{field: given})
        assert getattr(settings, field) == given.rstrip("/")


@pytest.mark.parametrize(
    "bad",
    ["api.seed2.io", "ftp://api.seed2.io", "https://", "http://host:port", "https://h/?a=1", ""],
)
def test_bad_base_url_is_named_in_one_line(bad: str) -> None:
    line = error_line(discord_token=TOKEN, seed2_base_url=bad)
    assert line.startswith("SEED2_BASE_URL is invalid: ")
    assert "\n" not in line


def test_missing_token_message_names_the_variable_and_the_fix() -> None:
    assert error_line() == (
        "DISCORD_TOKEN is not set: put DISCORD_TOKEN=<your bot token> in .env or the environment"
    )


def test_several_problems_share_one_line() -> None:
    line = error_line(seedance2ai_base_url="nope", log_level="LOUD", http_timeout_seconds=0)
    assert "\n" not in line
    parts = line.split("; ")
    assert parts[0].startswith("DISCORD_TOKEN is not set")
    assert {p.split(" ", 1)[0] for p in parts[1:]} == {
        "SEEDANCE2AI_BASE_URL",
        "LOG_LEVEL",
        "HTTP_TIMEOUT_SECONDS",
    }


def test_error_line_never_echoes_the_rejected_value() -> None:
    line = error_line(discord_token=TOKEN, seed2_base_url="gopher://secret-host-name")
    assert "secret-host-name" not in line


def test_token_and_encryption_secret_never_shown() -> None:
    settings = load_settings(discord_token=TOKEN, key_encryption_secret="hush-hush-secret")
    for text in (repr(settings), str(settings), str(settings.model_dump())):
        assert TOKEN not in text
        assert "hush-hush-secret" not in text
    assert settings.secrets() == [TOKEN, "hush-hush-secret"]


def test_public_url_is_an_https_url_without_its_trailing_slash(
    monkeypatch: pytest.MonkeyPatch,
) -> None:
    settings = load_settings(discord_token=TOKEN, public_url=" https://bot.example.com/seedance/ ")
    assert settings.public_url == "https://bot.example.com/seedance"
    assert load_settings(discord_token=TOKEN).public_url is None
    monkeypatch.setenv("PUBLIC_URL", "")  # copied from .env.example: not set
    assert load_settings(discord_token=TOKEN).public_url is None


@pytest.mark.parametrize(
    ("bad", "why"),
    [
        # Providers only call https URLs back; a test server gets its own override, not this.
        ("http://bot.example.com", "must start with https://"),
        ("https://localhost:8443", "must point at a public host"),
        ("https://192.168.1.20", "must point at a public host"),
        ("https://bot.example.com/?a=1", "must not contain a query or a fragment"),
        ("bot.example.com", "must start with https://"),
    ],
)
def test_bad_public_url_is_named_in_one_line(bad: str, why: str) -> None:
    line = error_line(discord_token=TOKEN, public_url=bad)
    assert line.startswith(f"PUBLIC_URL is invalid: {why}"), line
    assert "\n" not in line
