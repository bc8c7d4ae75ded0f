"""Settings, declared once: name, default and help; read from config.toml and HUIYIN_* variables."""

from __future__ import annotations

import os
import tomllib
from dataclasses import dataclass
from pathlib import Path
from typing import Any


@dataclass(frozen=True)
class Setting:
    name: str
    default: Any
    help: str


SETTINGS: tuple[Setting, ...] = (
    Setting("database_url", "", "SQLAlchemy URL of the records; empty means huiyin.db in the "
            "instance folder (SQLite, WAL). PostgreSQL: postgresql+psycopg://USER@HOST/NAME; "
            "{instance} in the URL becomes the instance folder's short name (its name and 8 hex "
            "of a hash of its path), so instances can share one server, each with its own "
            "database, which `huiyin init` creates when missing."),
    Setting("office_name", "清河县信访局", "The issuing office, printed on replies (发文机关)."),
    Setting("office_abbrev", "清信", "The office's short name used in document numbers "
            "(清信受〔2026〕17号)."),
    Setting("office_phone", "0000-0000000", "The contact telephone printed on replies."),
    Setting("default_unit", "清河县信访局", "The handling unit named on a reply when the case has "
            "none assigned yet."),
    Setting("public_url", "http://localhost:5000", "The address citizens reach the office's "
            "verification page at; printed in every reply's QR code."),
    Setting("search_engine", "tantivy", "Full-text engine: tantivy (fast at 100k letters), "
            "whoosh (pure Python) or postgres (in PostgreSQL, at search_url); `huiyin reindex` "
            "after changing it."),
    Setting("search_url", "", "The PostgreSQL database of the search index when search_engine "
            "is postgres; empty means database_url."),
    Setting("ocr_engine", "rapidocr", "OCR engine for new scans (see `huiyin ocr --help`)."),
    Setting("timezone", "Asia/Shanghai", "The office's time zone: receipt dates and deadlines."),
    Setting("intake_folder", "", "The watched folder office scanners scan to; empty means intake/ "
            "in the instance folder (a relative path is taken from there). Files go to its "
            "done/ and failed/ subfolders, a failed one with <name>.reason.txt."),
    Setting("queue_url", "", "Where background work waits: empty means the embedded queue in "
            "the database (workers on this machine); redis://[:PASSWORD@]HOST:PORT/DB or "
            "unix:///path/redis.sock?db=N means Redis, for `huiyin worker` on any number of "
            "machines (each with the same database_url and the originals' folder mounted)."),
    Setting("blob_dir", "", "The folder of the originals (scans, content-addressed); empty means "
            "blobs/ in the instance folder (a relative path is taken from there). Workers on "
            "several machines mount one shared folder and name it here."),
    Setting("secure_cookies", False, "true when the office serves Huiyin over HTTPS (a TLS proxy "
            "in front): the sign-in cookie then carries Secure and is never sent over plain "
            "HTTP."),
    Setting("trusted_proxies", "", "The addresses of the reverse proxies in front of Huiyin "
            "(comma-separated, e.g. 127.0.0.1): only a request from one of them has its client "
            "address taken from the X-Forwarded-For header the proxy adds. Sign-in delays count "
            "failures per client address, so behind a proxy name it here, or every client has "
            "the proxy's address; empty trusts no header (a client cannot forge its address)."),
    Setting("background_replies", False, "true: a reply generated on the web page is rendered "
            "by `huiyin worker` (a \"reply\" task; the page shows its progress) instead of in "
            "the web process. Turn it on with several workers or Redis (queue_url), so web "
            "processes do not run LibreOffice for each reply; false renders in the request."),
)

_BY_NAME = {s.name: s for s in SETTINGS}


class SettingsError(Exception):
    """config.toml names a setting that does not exist, or cannot be read."""


def load_settings(home: Path, overrides: dict[str, Any] | None = None) -> dict[str, Any]:
    """Defaults, then the instance's config.toml, then HUIYIN_<NAME> variables, then overrides."""
    values = {s.name: s.default for s in SETTINGS}
    config = home / "config.toml"
    if config.is_file():
        try:
            from_file = tomllib.loads(config.read_text(encoding="utf-8"))
        except (tomllib.TOMLDecodeError, UnicodeDecodeError) as e:
            raise SettingsError(f"{config}: {e}") from e
        unknown = sorted(set(from_file) - set(_BY_NAME))
        if unknown:
            raise SettingsError(f"{config}: unknown setting(s) {', '.join(unknown)}")
        values.update(from_file)
    for name in _BY_NAME:
        env = os.environ.get(f"HUIYIN_{name.upper()}")
        if env is not None:
            values[name] = env
    values.update(overrides or {})
    for setting in SETTINGS:
        if isinstance(setting.default, bool):
            values[setting.name] = _flag(setting.name, values[setting.name])
    return values


TRUE, FALSE = ("1", "true", "yes", "on"), ("0", "false", "no", "off", "")


def trusted_proxies(settings: dict[str, Any]) -> frozenset[str]:
    """The trusted_proxies setting as a set of addresses (a TOML list, or comma-separated)."""
    value = settings.get("trusted_proxies") or ""
    parts = value if isinstance(value, list) else str(value).split(",")
    return frozenset(str(p).strip() for p in parts if str(p).strip())


def _flag(name: str, value: object) -> bool:
    """A true/false setting as written in config.toml or a HUIYIN_* variable."""
    if isinstance(value, bool):
        return value
    text = str(value).strip().lower()
    if text in TRUE or text in FALSE:
        return text in TRUE
    raise SettingsError(f"setting {name} must be true or false, not {value!r}")
