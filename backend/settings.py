"""Typed settings, one class per concern, read from ``OUTPOST_*`` environment variables.

Defaults run a demo on one machine with nothing else installed. Production values come from the
environment; placeholder secrets refuse to start outside development.
"""

from __future__ import annotations

import os
import secrets
from functools import cached_property
from pathlib import Path

from pydantic import Field, model_validator
from pydantic_settings import BaseSettings, SettingsConfigDict

ROOT = Path(__file__).resolve().parent.parent


class AppSettings(BaseSettings):
    """Where the app keeps its files and how it presents itself."""

    model_config = SettingsConfigDict(env_prefix="OUTPOST_", extra="ignore")

    environment: str = Field("development", description="development | test | production")
    var_dir: Path = Field(ROOT / "var", description="Folder for the SQLite file, keys and demo credentials.")
    public_url: str = Field("http://127.0.0.1:8000", description="Base URL people open (QR labels, links).")
    log_json: bool = Field(False, description="JSON log lines (production) instead of console lines.")
    max_body_bytes: int = Field(4 * 1024 * 1024, description="Largest request body; bigger gets 413.")
    test_fault_hooks: bool = Field(False, description="Honour X-Outpost-Test-Fault headers. Tests only.")
    pwa_dir: Path = Field(ROOT / "pwa" / "dist", description="The built PWA served at / (npm run build).")
    trusted_proxies: str = Field(
        "127.0.0.1",
        description="Comma-separated IPs or CIDRs of reverse proxies whose X-Forwarded-For/-Proto are "
        "believed (the client address that login limits count); '*' trusts every peer. Applied inside the app.",
    )

    @property
    def is_production(self) -> bool:
        return self.environment == "production"


class DatabaseSettings(BaseSettings):
    """The database. SQLite (embedded, WAL) by default; PostgreSQL via asyncpg for production."""

    model_config = SettingsConfigDict(env_prefix="OUTPOST_DATABASE_", extra="ignore")

    url: str = Field("", description="SQLAlchemy URL; empty means sqlite+aiosqlite:///<var_dir>/outpost.db")
    echo: bool = False
    pool_size: int = 10
    sqlite_busy_timeout_ms: int = 15_000


class AuthSettings(BaseSettings):
    """Tokens, password hashing and login rate limits."""

    model_config = SettingsConfigDict(env_prefix="OUTPOST_AUTH_", extra="ignore")

    jwt_secret: str = Field("", description="HMAC secret for access tokens; generated into var/ in development.")
    access_token_minutes: int = 15
    refresh_token_days: int = Field(30, description="Longer than the longest offline period.")
    refresh_grace_seconds: int = Field(60, description="The previous refresh token stays valid this long.")
    argon2_time_cost: int = 3
    argon2_memory_kib: int = 65_536
    argon2_parallelism: int = 4
    login_max_failures_per_account: int = 5
    login_max_failures_per_address: int = 20
    login_failure_window_seconds: int = 900
    sse_ticket_seconds: int = 60
    hash_concurrency: int = Field(
        default_factory=lambda: max(1, (os.cpu_count() or 1) // 2),
        ge=1,
        description="Password hashes computed at once (in worker threads); more logins queue. "
        "Default: half the CPUs, at least 1, so logins never starve every other request.",
    )
    max_devices_per_user: int = Field(
        10, ge=1, description="Signed-in (not revoked) devices per user; a new sign-in past it answers 409."
    )


class SyncSettings(BaseSettings):
    """The sync log."""

    model_config = SettingsConfigDict(env_prefix="OUTPOST_SYNC_", extra="ignore")

    pull_page_size: int = Field(5000, description="Rows per pull page (first sync streams in pages).")
    max_push_retries: int = Field(5, description="Transient DB failures retried before answering 503.")
    poll_seconds: float = Field(15.0, description="SSE keep-alive interval (a revoked device's stream ends by then).")
    attachment_quota_bytes: int = Field(
        2 * 1024**3, description="Photo bytes each user may store, counted against whoever sent them first."
    )
    max_streams_per_user: int = Field(8, description="Live event streams (SSE) one user may hold open in a process.")


class AssetSettings(BaseSettings):
    """Asset tags, location labels and label printing."""

    model_config = SettingsConfigDict(env_prefix="OUTPOST_ASSETS_", extra="ignore")

    tag_prefix: str = Field("AS", description="Prefix of asset tags (letters and digits).")
    tag_digits: int = Field(8, description="Width of the zero-padded number in a tag.")
    location_prefix: str = Field("LC", description="Prefix of location label codes (must differ from tag_prefix).")
    label_font: str = Field("", description="Font file for label text (needs CJK glyphs); empty: found on the system.")


class RedisSettings(BaseSettings):
    """Redis fans pokes out across several app processes; empty means in-memory (one process)."""

    model_config = SettingsConfigDict(env_prefix="OUTPOST_REDIS_", extra="ignore")

    url: str = ""


PLACEHOLDER_SECRETS = {"", "change-me", "changeme", "secret", "dev"}


class Settings(BaseSettings):
    model_config = SettingsConfigDict(env_prefix="OUTPOST_", extra="ignore")

    app: AppSettings = Field(default_factory=AppSettings)
    db: DatabaseSettings = Field(default_factory=DatabaseSettings)
    auth: AuthSettings = Field(default_factory=AuthSettings)
    sync: SyncSettings = Field(default_factory=SyncSettings)
    redis: RedisSettings = Field(default_factory=RedisSettings)
    assets: AssetSettings = Field(default_factory=AssetSettings)

    @model_validator(mode="after")
    def _secrets(self) -> Settings:
        if self.auth.jwt_secret in PLACEHOLDER_SECRETS:
            if self.app.environment not in ("development", "test"):
                raise ValueError(
                    f"OUTPOST_AUTH_JWT_SECRET must be set to a real secret outside development "
                    f"(OUTPOST_ENVIRONMENT is {self.app.environment!r})"
                )
            self.auth.jwt_secret = _dev_secret(self.app.var_dir)
        return self

    @cached_property
    def database_url(self) -> str:
        if self.db.url:
            return self.db.url
        self.app.var_dir.mkdir(parents=True, exist_ok=True)
        return f"sqlite+aiosqlite:///{self.app.var_dir / 'outpost.db'}"


def _dev_secret(var_dir: Path) -> str:
    """A per-installation secret kept in var/ (mode 0600), made on first start."""
    var_dir.mkdir(parents=True, exist_ok=True)
    path = var_dir / "jwt-secret"
    if not path.exists():
        path.write_text(secrets.token_urlsafe(48))
        path.chmod(0o600)
    return path.read_text().strip()


def get_settings() -> Settings:
    return Settings()
