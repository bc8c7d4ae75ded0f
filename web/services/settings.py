"""Settings, declared once: name, default and help; read from config.toml and HUIYIN_* variables."""

from __future__ import annotations

import json
import os
import tomllib
from dataclasses import dataclass
from pathlib import Path
from typing import Any
from urllib.parse import urlsplit


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
    Setting("office_phone", "", "The contact telephone printed on replies (asked by `huiyin "
            "init`); a reply is not generated until it is set, except in the demo."),
    Setting("default_unit", "清河县信访局", "The handling unit named on a reply when the case has "
            "none assigned yet."),
    Setting("public_url", "", "The address citizens reach the office's verification page at "
            "(https://xinfang.example.gov.cn); printed in every reply's QR code. Until it is set "
            "to an address a citizen's phone can open, `huiyin serve` and the admin page warn "
            "and replies are not signed, except in the demo."),
    Setting("demo", False, "true for a demonstration or test instance (`huiyin init --demo`): "
            "replies may carry the demo's telephone and a local verification address."),
    Setting("sign_again_minutes", 15, "How long a leader's password, typed again to sign a "
            "reply, is good for further signatures (0: asked at every signature)."),
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
        elif isinstance(setting.default, int):
            values[setting.name] = _number(setting.name, values[setting.name])
    if values["demo"]:
        for name, value in DEMO_DEFAULTS.items():
            values[name] = values[name] or value
    return values


# What the demo prints where an office would have its own (never outside the demo).
DEMO_DEFAULTS = {"office_phone": "0000-0000000", "public_url": "http://localhost:5000"}
LOCAL_HOSTS = ("localhost", "127.0.0.1", "0.0.0.0", "::1", "")


def setup_problems(values: dict[str, Any]) -> list[str]:
    """What the office must still set before replies go to citizens (none in the demo)."""
    if values["demo"]:
        return []
    problems = []
    url = str(values["public_url"] or "").strip()
    host = (urlsplit(url).hostname or "") if url else ""
    if not url:
        problems.append("尚未设置群众访问的验证网址（public_url）：答复上的二维码无法生成，"
                        "答复不能签章。")
    elif host in LOCAL_HOSTS or host.startswith("127.") or urlsplit(url).scheme not in (
            "http", "https"):
        problems.append(f"验证网址（public_url）是 {url}，群众的手机打不开：请设置为本单位对外"
                        "的网址，否则答复不能签章。")
    if not str(values["office_phone"] or "").strip():
        problems.append("尚未设置答复上的联系电话（office_phone）：答复不能生成。")
    return problems


def _number(name: str, value: object) -> int:
    """A whole-number setting as written in config.toml or a HUIYIN_* variable."""
    try:
        return int(str(value).strip())
    except ValueError:
        raise SettingsError(f"setting {name} must be a whole number, not {value!r}") from None


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


def save_settings(home: Path, changes: dict[str, Any]) -> None:
    """Write settings into the instance's config.toml, keeping what it already holds."""
    unknown = sorted(set(changes) - set(_BY_NAME))
    if unknown:
        raise SettingsError(f"unknown setting(s) {', '.join(unknown)}")
    path = home / "config.toml"
    values: dict[str, Any] = {}
    if path.is_file():
        values = tomllib.loads(path.read_text(encoding="utf-8"))
    values.update(changes)
    lines = []
    for name, value in values.items():
        if isinstance(value, bool):
            lines.append(f"{name} = {'true' if value else 'false'}")
        elif isinstance(value, int):
            lines.append(f"{name} = {value}")
        else:
            lines.append(f"{name} = {json.dumps(str(value), ensure_ascii=False)}")
    path.write_text("\n".join(lines) + "\n", encoding="utf-8")
