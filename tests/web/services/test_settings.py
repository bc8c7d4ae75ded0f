"""Settings: defaults, the instance's config.toml, HUIYIN_* variables, and clear errors."""

from __future__ import annotations

from pathlib import Path

import pytest

from web.services.settings import SETTINGS, SettingsError, load_settings, setup_problems


def test_defaults_when_nothing_is_configured(tmp_path: Path,
                                             monkeypatch: pytest.MonkeyPatch) -> None:
    monkeypatch.delenv("HUIYIN_DEMO", raising=False)
    assert load_settings(tmp_path) == {s.name: s.default for s in SETTINGS}


def test_outside_the_demo_the_office_must_set_its_address_and_phone(
        tmp_path: Path, monkeypatch: pytest.MonkeyPatch) -> None:
    monkeypatch.delenv("HUIYIN_DEMO", raising=False)
    assert [p.split("（")[1].split("）")[0] for p in setup_problems(load_settings(tmp_path))
            ] == ["public_url", "office_phone"]
    local = load_settings(tmp_path, {"public_url": "http://127.0.0.1:5000",
                                     "office_phone": "0371-1234567"})
    assert ["群众的手机打不开" in p for p in setup_problems(local)] == [True]
    ready = load_settings(tmp_path, {"public_url": "https://xf.qinghe.gov.cn",
                                     "office_phone": "0371-1234567"})
    assert setup_problems(ready) == []
    demo = load_settings(tmp_path, {"demo": True})
    assert (demo["office_phone"], setup_problems(demo)) == ("0000-0000000", [])


def test_config_file_then_environment(tmp_path: Path, monkeypatch: pytest.MonkeyPatch) -> None:
    (tmp_path / "config.toml").write_text('office_name = "石桥县信访局"\noffice_abbrev = "石信"\n',
                                          encoding="utf-8")
    monkeypatch.setenv("HUIYIN_OFFICE_ABBREV", "石访")
    values = load_settings(tmp_path)
    assert values["office_name"] == "石桥县信访局"
    assert values["office_abbrev"] == "石访"


@pytest.mark.parametrize(("content", "message"), [
    ('offise_name = "x"\n', "unknown setting"),
    ("office_name = \n", "config.toml"),
    ('secure_cookies = "maybe"\n', "secure_cookies must be true or false"),
])
def test_a_bad_config_file_is_named(tmp_path: Path, content: str, message: str) -> None:
    (tmp_path / "config.toml").write_text(content, encoding="utf-8")
    with pytest.raises(SettingsError, match=message):
        load_settings(tmp_path)


def test_a_flag_from_the_environment(tmp_path: Path, monkeypatch: pytest.MonkeyPatch) -> None:
    monkeypatch.setenv("HUIYIN_SECURE_COOKIES", "yes")
    assert load_settings(tmp_path)["secure_cookies"] is True
    monkeypatch.setenv("HUIYIN_SECURE_COOKIES", "0")
    assert load_settings(tmp_path)["secure_cookies"] is False
    monkeypatch.setenv("HUIYIN_SECURE_COOKIES", "sometimes")
    with pytest.raises(SettingsError, match="HUIYIN|secure_cookies"):
        load_settings(tmp_path)
