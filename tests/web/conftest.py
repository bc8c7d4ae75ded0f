"""Scans drawn by ocr.synthetic and an instance that has ingested them through the CLI."""

from __future__ import annotations

import json
from collections.abc import Iterator
from dataclasses import dataclass
from pathlib import Path

import pytest
from click.testing import CliRunner, Result

from web.cli import main


@dataclass(frozen=True)
class Scan:
    path: Path
    name: str
    phone: str
    id_number: str


LETTERS = (
    ("韩秋菊", "13839452176", "石桥镇枣树营村", "征地补偿款至今没有发放"),
    ("卢振东", "15903967742", "城关镇南关社区", "建筑公司拖欠农民工工资"),
    ("钟晓岚", "18637715209", "城关镇北苑小区", "小区电梯停运无人维修"),
)
ID_NUMBERS = ("41172219630412352X", "411722197809231811", "411722199106054328")


def draw(folder: Path, name: str, phone: str, place: str, matter: str, *, fmt: str,
         seed: int, id_number: str = "") -> Path:
    """One handwritten-looking letter, saved as a scanner would (jpg, png, pdf, tiff)."""
    from ocr import synthetic

    lines = ["尊敬的县信访局领导：", f"我叫{name}，家住{place}，", f"联系电话{phone}。",
             *([f"身份证号{id_number}。"] if id_number else []),
             f"我反映的问题是{matter}，", "请求领导督促解决。", f"信访人：{name}"]
    image = synthetic.render_scan(lines, seed=seed)
    path = folder / f"letter-{seed}.{fmt}"
    if fmt == "pdf":
        synthetic.save_pdf([image], path)
    elif fmt == "tiff":
        synthetic.save_tiff([image], path)
    else:
        image.save(path)
    return path


@pytest.fixture(scope="session")
def scans(tmp_path_factory: pytest.TempPathFactory) -> list[Scan]:
    folder = tmp_path_factory.mktemp("scans")
    formats = ("jpg", "png", "pdf")
    return [
        Scan(draw(folder, name, phone, place, matter, fmt=fmt, seed=i, id_number=id_number),
             name, phone, id_number)
        for i, ((name, phone, place, matter), fmt, id_number) in enumerate(
            zip(LETTERS, formats, ID_NUMBERS, strict=True))
    ]


def run(home: Path, *args: str, stdin: str | None = None) -> Result:
    """`huiyin --home HOME ARGS...` in this process (the OCR model stays loaded)."""
    return CliRunner().invoke(main, ["--home", str(home), *args], input=stdin,
                              catch_exceptions=False)


def run_json(home: Path, *args: str) -> dict:  # type: ignore[type-arg]
    result = run(home, *args, "--json", stdin=SIGNER_PASSWORD if "--leader" in args else None)
    return json.loads(result.stdout)  # type: ignore[no-any-return]


# A signature from the command line names its leader, who has checked the document and types
# the password again (web.services.sign_confirmation), as on the page.
SIGNER_PASSWORD = "Qinghe-sign-2026\n"
SIGN = ("--sign", "--leader", "signer", "--checked", "--password-stdin")


def add_signer(home: Path) -> None:
    """The leader `signer`, who signs the command line's replies in these tests."""
    added = run(home, "user", "add", "signer", "--role", "leader", "--display-name", "王建军",
                "--password-stdin", stdin=SIGNER_PASSWORD)
    assert added.exit_code == 0, added.output


@pytest.fixture(scope="session")
def ingested(tmp_path_factory: pytest.TempPathFactory, scans: list[Scan]) -> Iterator[Path]:
    """An instance holding the three scans, ingested once for the whole session."""
    home = tmp_path_factory.mktemp("ingested") / "instance"
    assert run(home, "init").exit_code == 0
    result = run(home, "ingest", *(str(s.path) for s in scans), "--json")
    assert result.exit_code == 0, result.output
    yield home
