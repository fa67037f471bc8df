"""One Settings class for every process: environment variables with the MD_ prefix, or a .env file."""

import os
from functools import lru_cache
from pathlib import Path
from typing import Literal
from zoneinfo import ZoneInfo, ZoneInfoNotFoundError

from pydantic import Field, SecretStr, field_validator, model_validator
from pydantic_settings import BaseSettings, SettingsConfigDict

PROJECT_ROOT = Path(__file__).resolve().parent.parent
DEFAULT_VAR_DIR = PROJECT_ROOT / "var"
DEFAULT_DATA_DIR = PROJECT_ROOT.parent / "shared" / "data"
ENV_FILE_VARIABLE = "MENTIONDESK_ENV_FILE"
"""Names the .env file to read instead of `.env` in the working directory (the test suite points it
at /dev/null, so a developer's own .env, tokens included, never reaches a test)."""
DEFAULT_DESK_ZONE = "Europe/Moscow"  # the zone of the default business calendar


def _default_model_cache() -> Path:
    return Path.home() / ".cache" / "mentiondesk" / "models"


class Settings(BaseSettings):
    """Configuration of mentiondesk. Every field is read from `MD_<NAME>` (case-insensitive)."""

    model_config = SettingsConfigDict(
        env_prefix="MD_", env_file=os.environ.get(ENV_FILE_VARIABLE) or ".env", extra="ignore"
    )

    environment: Literal["development", "production"] = "development"
    log_dir: Path = Field(
        default=DEFAULT_VAR_DIR / "logs",
        description="where `mentiondesk up` writes the log of each process it runs",
    )

    # Kafka
    kafka_bootstrap: str | None = Field(
        default=None, description="host:port of an existing Kafka; unset: `up` starts the embedded broker"
    )
    broker_port: int = Field(default=19092, description="port of the embedded broker on 127.0.0.1")
    topic_partitions: int = Field(default=4, ge=1)
    kafka_session_timeout_s: float = Field(default=6.0, gt=0)
    kafka_max_request_bytes: int = Field(
        default=1_048_576,
        ge=65_536,
        description="the largest message a collector sends (match the broker's message.max.bytes); "
        "a larger mention goes to the DLQ and its page moves on",
    )
    kafka_fetch_max_wait_ms: int = Field(
        default=100,
        ge=0,
        description="How long a worker's fetch may wait at the broker for new data (ms); bounds latency",
    )

    # Database
    database_url: str = Field(
        default=f"sqlite:///{DEFAULT_VAR_DIR / 'mentiondesk.db'}",
        description="SQLAlchemy URL; postgresql+psycopg://user:pass@host/db for PostgreSQL",
    )

    # Model and worker
    model: str | None = Field(
        default=None, description="another sequence-classification model (folder or hub id); unset: built-in"
    )
    model_cache_dir: Path = Field(default_factory=_default_model_cache)
    model_dir: Path = Field(
        default_factory=lambda: DEFAULT_VAR_DIR / "models",
        description="where `model retrain` keeps retrained models and which one is active",
    )
    data_dir: Path = Field(
        default=DEFAULT_DATA_DIR,
        description="folder of the labelled data sets (training, `eval`, tests); default: "
        "../shared/data beside the project",
    )
    inference: Literal["auto", "fast", "torch"] = Field(
        default="auto",
        description="torch: the whole fine-tuned encoder in transformers, the reference figures; "
        "fast: the runtime MD_FAST_RUNTIME names (see README for its speed and figures); auto: fast "
        "where it is faster at torch's figures (on OpenVINO, int8 on a CPU with int8 dot products; "
        "on ONNX Runtime, a model with its distilled student), else torch",
    )
    fast_runtime: Literal["openvino", "onnxruntime"] = Field(
        default="openvino",
        description="the fast path's runtime. openvino: the whole model, in the precision "
        "MD_FAST_PRECISION names; onnxruntime: the model's distilled student (half the encoder, lower "
        "figures on two held-out sets) or, for a model without one, the whole encoder in fp32",
    )
    fast_precision: Literal["auto", "int8", "fp32"] = Field(
        default="auto",
        description="the OpenVINO fast path's precision. int8: calibrated on the model's dev part at "
        "`mentiondesk model export` (held-out figures within 0.003 of torch's; needs MD_DATA_DIR); "
        "fp32: torch's figures, no data needed; auto: int8 where the CPU has int8 dot-product "
        "instructions (AVX-512 VNNI, AVX-VNNI, AMX), else fp32 (int8 is no faster there)",
    )
    quantize: Literal["int8"] | None = Field(
        default=None,
        description="int8: run the torch path's linear layers in int8 (implies MD_INFERENCE=torch; "
        "faster, less accurate, see README)",
    )
    torch_threads: int = Field(default=2, ge=1)
    max_length: int = Field(default=128, ge=8, le=512)
    batch_size: int = Field(default=32, ge=1, description="texts per model forward pass")
    batch_take: int = Field(
        default=128,
        ge=1,
        description="most raw mentions the worker takes at once, shared by its score agents; the "
        "model runs each take length-sorted in batches of MD_BATCH_SIZE",
    )
    batch_window_s: float = Field(
        default=0.05,
        gt=0,
        description="how long the worker gathers mentions before it scores them (seconds); the model "
        "waits this long between batches, and mentions that came meanwhile join the next batch",
    )
    desk_sync_interval_s: float = Field(
        default=2.0,
        gt=0,
        description="how often the worker routes new threads to owners (seconds, at most)",
    )
    worker_id: str = Field(default="mentiondesk", description="Faust app id = consumer group")

    # Desk
    desk_host: str = "127.0.0.1"
    desk_port: int = 8501
    desk_refresh_s: float = Field(default=5.0, gt=0)
    desk_language: Literal["ru", "en"] = Field(
        default="ru", description="language of the desk, the digest and alerts (users may choose their own)"
    )
    desk_signin_max_failures: int = Field(
        default=10, ge=1, description="failed sign-ins in a row before a user name or client is locked"
    )
    desk_lockout_s: float = Field(default=60.0, gt=0, description="first lockout; doubles on each next")
    desk_lockout_max_s: float = Field(default=3600.0, gt=0, description="longest lockout")
    desk_idle_timeout_s: float = Field(default=1800.0, gt=0, description="sign out after no user action")
    desk_session_max_s: float = Field(default=43200.0, gt=0, description="sign out this long after sign-in")
    desk_client_ip_header: str | None = Field(
        default=None, description="header whose last address is the client (set behind a trusted proxy)"
    )
    desk_tls_cert: Path | None = Field(default=None, description="PEM certificate: the desk serves HTTPS")
    desk_tls_key: Path | None = Field(default=None, description="PEM private key of MD_DESK_TLS_CERT")
    desk_behind_tls_proxy: bool = Field(
        default=False, description="a TLS reverse proxy is in front of the desk (production check)"
    )

    # Satisfaction surveys after resolution (desk/services/surveys.py; modes in the brands config)
    survey_author_cooldown_days: float = Field(
        default=30.0, ge=0, description="least time between two surveys to the same author (days)"
    )
    survey_answer_window_h: float = Field(
        default=72.0, gt=0, description="how long a survey's answer is awaited (hours)"
    )

    # Demo stream
    demo_file: Path | None = Field(default=None, description="file `up` replays; unset: the shipped sample")
    demo_rate: float = Field(default=2.0, gt=0, description="mentions per second of the demo stream")

    # Network credentials (used by the collectors and the publisher)
    vk_token: SecretStr | None = None
    twitter_bearer_token: SecretStr | None = None

    # Collectors and publisher (ingest/): brands config, network endpoints, posting credentials
    config: Path | None = Field(default=None, description="brands config, TOML or YAML (MD_CONFIG)")
    vk_api_url: str = Field(default="https://api.vk.ru/method/", description="VK API method base URL")
    vk_api_version: str = "5.199"
    vk_rps_delay: float = Field(default=0.34, ge=0, description="seconds between VK calls (3/s limit)")
    vk_post_token: SecretStr | None = Field(default=None, description="community token for replies")
    twitter_api_url: str = Field(default="https://api.twitter.com", description="X API v2 host")
    twitter_consumer_key: SecretStr | None = None
    twitter_consumer_secret: SecretStr | None = None
    twitter_access_token: SecretStr | None = None
    twitter_access_token_secret: SecretStr | None = None
    poll_interval_s: float = Field(default=60.0, gt=0, description="seconds between collector polls")
    stall_periods: int = Field(default=3, ge=1, description="polls without success before 'stalled'")
    overlap_s: float = Field(default=900.0, ge=0, description="window re-read on every poll")
    publisher_group: str = Field(default="mentiondesk-publisher", description="publisher consumer group")
    reply_redeliver_s: float = Field(
        default=60.0,
        gt=0,
        description="a reply handed to the broker and not answered by the publisher within this time "
        "is handed over again (the broker may have lost it)",
    )
    relay_interval_s: float = Field(default=1.0, gt=0, description="how often the outbox relay looks")
    publisher_max_poll_interval_s: float = Field(
        default=300.0,
        gt=0,
        description="the publisher leaves its group when it does not poll for this long (it keeps "
        "polling while a rate limit pauses a partition)",
    )

    # Analytics: negativity-spike alerts and the daily digest (sentiment/spikes.py, desk/services/)
    spike_k: float = Field(default=3.0, gt=0, description="k of brands without [brands.alerts]")
    spike_min_count: int = Field(default=5, ge=1, description="negative mentions to alert")
    spike_lateness_s: float = Field(default=300.0, ge=0, description="event-time lateness")
    spike_cooldown_s: float = Field(default=3600.0, ge=0, description="min. gap between alerts")
    alert_webhook_url: str | None = Field(default=None, description="POST alerts here (JSON)")
    alert_webhook_chat_id: str | None = Field(default=None, description="chat_id for Telegram")
    alert_email_to: str = Field(default="", description="comma-separated recipients of alert e-mails")
    # Desk notices (desk/services/notices.py): clocks about to run out, and where else they go
    notify_before_due_min: int = Field(
        default=30, ge=1, le=24 * 60, description="tell the owner this many minutes before a clock runs out"
    )
    notify_telegram_webhook_url: str | None = Field(
        default=None,
        description="Telegram sendMessage URL of the bot that tells users with a chat id; "
        "unset: MD_ALERT_WEBHOOK_URL when that is Telegram's",
    )
    smtp_host: str | None = Field(default=None, description="SMTP server; unset: no e-mail is sent")
    smtp_port: int = 25
    smtp_user: str | None = None
    smtp_password: SecretStr | None = None
    smtp_starttls: bool = False
    smtp_ssl: bool = False
    mail_from: str = "mentiondesk@localhost"
    digest_to: str = Field(default="", description="comma-separated recipients of the daily digest")
    digest_time: str = Field(default="07:00", pattern=r"^([01]\d|2[0-3]):[0-5]\d$", description="HH:MM")
    digest_timezone: str | None = Field(
        default=None, description="zone of the digest time and day; unset: the desk's zone"
    )
    # The desk's time zone: times shown on every page and in exports, days cut in KPIs, trends and
    # the digest. Unset: the zone of the desk's business calendar (Europe/Moscow by default).
    desk_timezone: str | None = Field(default=None, description="zone of times shown and days cut")

    @field_validator("desk_timezone", "digest_timezone")
    @classmethod
    def _known_zone(cls, value: str | None) -> str | None:
        if value is None or not value.strip():
            return None
        try:
            ZoneInfo(value.strip())
        except (ZoneInfoNotFoundError, ValueError) as exc:
            raise ValueError(f"unknown time zone {value!r}") from exc
        return value.strip()

    weekly_report_day: Literal["off", "mon", "tue", "wed", "thu", "fri", "sat", "sun"] = Field(
        default="mon",
        description="weekday on which the digest schedule e-mails last week's report to MD_DIGEST_TO "
        "(in the business calendar's zone); off: never",
    )
    weekly_report_at: str = Field(
        default="09:00", pattern=r"^([01]\d|2[0-3]):[0-5]\d$", description="HH:MM of the weekly report"
    )

    @model_validator(mode="after")
    def _postgres_driver(self) -> "Settings":
        if self.database_url.startswith("postgresql://"):
            self.database_url = "postgresql+psycopg://" + self.database_url.removeprefix("postgresql://")
        return self

    @property
    def digest_zone(self) -> str:
        """The digest's zone: MD_DIGEST_TIMEZONE, else MD_DESK_TIMEZONE, else the default calendar's."""
        return self.digest_timezone or self.desk_timezone or DEFAULT_DESK_ZONE

    def public_view(self) -> dict[str, str]:
        """Every setting as text, secrets hidden (for `mentiondesk config`)."""
        shown: dict[str, str] = {}
        for name in type(self).model_fields:
            value = getattr(self, name)
            if isinstance(value, SecretStr):
                shown[name] = "**********" if value.get_secret_value() else ""
            elif name == "database_url":
                shown[name] = _hide_password(str(value))
            else:
                shown[name] = "" if value is None else str(value)
        return shown


def _hide_password(url: str) -> str:
    from sqlalchemy.engine import make_url

    parsed = make_url(url)
    return parsed.render_as_string(hide_password=True) if parsed.password else url


@lru_cache(maxsize=1)
def get_settings() -> Settings:
    """The process-wide settings, read once."""
    return Settings()
