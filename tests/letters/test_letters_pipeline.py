"""From template to signed PDF: layout measured on the PDF, fonts, text read back, signatures.

Slow (LibreOffice): one warm converter renders every template once for the whole module.
"""

from __future__ import annotations

import re
import shutil
import subprocess
from collections.abc import Iterator
from datetime import date
from pathlib import Path
from typing import Any

import pdfplumber
import pytest

import letters
from letters import measure_layout
from letters._measure import _red

pytestmark = [
    pytest.mark.slow,
    pytest.mark.skipif(shutil.which("soffice") is None or letters._fonts.missing_fonts() != [],
                       reason="needs LibreOffice, texlive-lang-chinese and fonts-noto-cjk"),
]

EXTRA = {"reason": "该事项已经人民法院作出生效判决", "legal_basis": "《信访工作条例》第三十二条",
         "channel": "你可以依法申请再审", "deadline_date": date(2027, 1, 9),
         "request": "要求按协议足额发放房屋拆迁补偿款", "facts": "经调查，补偿款已发放30万元",
         "decision": "支持", "opinion": "责成镇人民政府发放余款", "review_authority": "县人民政府",
         "accepted_date": date(2026, 11, 12), "extension_reason": "需进一步调查核实",
         "new_due_date": date(2027, 2, 10), "extension_days": 30,
         "original_office": "县住房和城乡建设局",
         "original_doc_number": "清住建信复〔2026〕17号", "review_request_date": date(2026, 12, 20),
         "conclusion": "维持原处理意见", "next_authority": "市人民政府",
         "served_document": "信访事项处理意见书", "served_doc_number": "清住建信复〔2026〕17号",
         "service_address": "清河镇枣树营村", "delivery_method": "邮寄"}
LONG_FACTS = "经调查核实，镇人民政府与你签订了拆迁补偿协议，约定的补偿款项已部分发放到位" * 30


@pytest.fixture(scope="module")
def pdfs(tmp_path_factory: pytest.TempPathFactory) -> Iterator[dict[str, Path]]:
    """Every built-in template rendered and converted once, plus a three-page opinion."""
    folder = tmp_path_factory.mktemp("pdfs")
    context: dict[str, Any] = {
        "office_name": "清河县信访局", "doc_number": "清信受〔2026〕17号",
        "petitioner_name": "王喆、李堃、赵珺", "received_date": date(2026, 11, 10),
        "reg_no": "2026-000017", "summary": "反映房屋拆迁补偿款未按协议足额发放的问题",
        "handling_unit": "清河县住房和城乡建设局", "issue_date": date(2026, 11, 24),
        "contact_phone": "0319-8123456", "query_code": "K7QM-3XZ9-PT2D",
        "query_url": "https://xf.example.gov.cn/query", "channel_word": "来信",
        "office_period": False, **EXTRA}
    made = {}
    with letters.WarmConverter(folder / "warm") as converter:
        for name in letters.template_names():
            docx = letters.render_docx(name, context, folder / f"{name}.docx")
            made[name] = converter.convert(docx, folder / f"{name}.pdf")
        long = letters.render_docx("handling_opinion", {**context, "facts": LONG_FACTS},
                                   folder / "long.docx")
        made["long"] = converter.convert(long, folder / "long.pdf")
    yield made


@pytest.mark.parametrize("name", letters.template_names())
def test_every_template_follows_gbt_9704_within_1_mm(pdfs: dict[str, Path], name: str) -> None:
    measured = measure_layout(pdfs[name], letter_format=name != "assignment")
    assert measured.deviations == []
    assert measured.values["agency name top"] == pytest.approx(
        30.0 if name != "assignment" else 72.0, abs=1.0)
    assert measured.values["left margin (binding side)"] == pytest.approx(28.0, abs=1.0)
    assert measured.values["line pitch"] == pytest.approx(225 / 22, abs=0.05)
    assert measured.values["character advance"] == pytest.approx(156 / 28, abs=0.05)


def test_a_full_page_holds_22_lines(pdfs: dict[str, Path]) -> None:
    measured = measure_layout(pdfs["long"])
    assert measured.pages >= 3
    assert measured.values["page 2 lines"] == 22
    assert measured.values["page 2 top margin"] == pytest.approx(37.0, abs=1.0)
    assert measured.deviations == []


def test_acknowledgement_fits_one_page_with_its_signature(pdfs: dict[str, Path]) -> None:
    with pdfplumber.open(pdfs["acknowledgement"]) as pdf:
        assert len(pdf.pages) == 1
        assert "2026年11月24日" in (pdf.pages[0].extract_text() or "").replace(" ", "")


def test_every_font_is_embedded_and_none_is_a_sans_fallback(pdfs: dict[str, Path]) -> None:
    for path in pdfs.values():
        listing = subprocess.run(["pdffonts", str(path)], capture_output=True, text=True,
                                 check=True).stdout.splitlines()[2:]
        assert listing
        for line in listing:
            assert line.split()[-5] == "yes", line  # the emb column
            assert "Sans" not in line and "DejaVu" not in line, line
    fonts = subprocess.run(["pdffonts", str(pdfs["acknowledgement"])], capture_output=True,
                           text=True, check=True).stdout
    assert "FandolFang" in fonts and "NotoSerifCJK" in fonts


def _compact(text: str) -> str:
    return "".join(text.split())


@pytest.mark.parametrize("name", ["acknowledgement", "handling_opinion"])
def test_the_pdf_declares_pdf_a_2b(pdfs: dict[str, Path], name: str) -> None:
    with pdfplumber.open(pdfs[name]) as pdf:
        xmp = pdf.doc.catalog["Metadata"].resolve().get_data().decode("utf-8")
    assert re.search(r"pdfaid:part[^0-9]{0,3}2", xmp)
    assert re.search(r"pdfaid:conformance[^A-Z]{0,3}B", xmp)


@pytest.mark.parametrize("name", ["acknowledgement", "handling_opinion", "long"])
def test_text_read_back_equals_the_rendered_text(pdfs: dict[str, Path], name: str) -> None:
    docx = pdfs[name].with_suffix(".docx")
    rendered = _compact(letters.docx_text(docx))
    with pdfplumber.open(pdfs[name]) as pdf:
        pages = []
        for page in pdf.pages:
            # The body: not the red agency name, not the 四号 page numbers.
            body = page.filter(lambda o: o.get("object_type") != "char"
                               or (not _red(o.get("non_stroking_color"))
                                   and o.get("size", 0) > 14.5))
            pages.append(body.extract_text() or "")
    assert _compact("".join(pages)) == rendered
    assert "王喆、李堃、赵珺" in rendered  # rare characters come through (Noto fallback)


def test_signed_pdf_verifies_and_one_flipped_byte_fails(pdfs: dict[str, Path],
                                                        tmp_path: Path) -> None:
    p12 = letters.make_certificate(tmp_path / "office.p12", b"secret", "清河县信访局")
    signed = letters.sign_pdf(pdfs["handling_opinion"], tmp_path / "signed.pdf", p12=p12,
                              passphrase=b"secret", office_name="清河县信访局",
                              date_text="2026年11月24日", link="http://x/verify/1-ab",
                              reason="清信复〔2026〕1号")
    root = letters.certificate_of(p12, b"secret")
    data = signed.read_bytes()
    good = letters.verify_pdf(data, root)
    assert (good.valid, good.intact, good.link) == (True, True, "http://x/verify/1-ab")
    assert "清河县信访局" in (good.signer or "")
    for position in (len(data) // 3, len(data) // 2, len(data) - 200):
        flipped = bytearray(data)
        flipped[position] ^= 0x01
        bad = letters.verify_pdf(bytes(flipped), root)
        assert not bad.valid
    other = letters.make_certificate(tmp_path / "other.p12", b"x", "别的机关")
    assert not letters.verify_pdf(data, letters.certificate_of(other, b"x")).valid


def test_a_converter_that_hangs_is_restarted(tmp_path: Path, pdfs: dict[str, Path]) -> None:
    converter = letters.WarmConverter(tmp_path / "warm", timeout=30)
    try:
        converter.start()
        converter._port = 1  # nothing listens there: the call fails, the server restarts
        out = converter.convert(pdfs["acknowledgement"].with_suffix(".docx"), tmp_path / "a.pdf")
        assert out.read_bytes().startswith(b"%PDF-") and converter.restarts == 1
    finally:
        converter.close()
