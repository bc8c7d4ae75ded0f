"""The nine documents on the rendered PDF: pages that never break wrong, the right articles.

Issue 21: numbers and phones never broken across lines, a page number on every page that
GB/T 9704 numbers, the seal never alone on a page, for long numbers, long names and a body that
ends at the bottom of a page. Issue 16: each template cites the articles of the 《信访工作条例》
that govern it, and prints the figures it is given (decision, days, dates).
Slow (LibreOffice): one warm converter for the module.
"""

from __future__ import annotations

import re
import shutil
from collections.abc import Iterator
from datetime import date
from pathlib import Path
from typing import Any

import pdfplumber
import pytest

import letters
from letters import measure_layout
from letters._measure import PITCH, rows

pytestmark = [
    pytest.mark.slow,
    pytest.mark.skipif(shutil.which("soffice") is None or letters._fonts.missing_fonts() != [],
                       reason="needs LibreOffice, texlive-lang-chinese and fonts-noto-cjk"),
]

REG_NO, PHONE = "2026-0000123456", "0319-81234567-8021"
DOC_NUMBER = "清信受〔2026〕100017号"
NAMES = "欧阳娜娜、王喆、李堃、赵珺、司马相如、诸葛明亮"
UNIT = "清河县住房和城乡建设局城市更新与房屋征收服务中心"
CONTEXT: dict[str, Any] = {
    "office_name": "清河县信访局", "doc_number": DOC_NUMBER, "petitioner_name": NAMES,
    "received_date": date(2026, 11, 10), "reg_no": REG_NO, "channel_word": "来访",
    "summary": "反映房屋拆迁补偿款未按协议足额发放的问题", "handling_unit": UNIT,
    "issue_date": date(2026, 11, 24), "contact_phone": PHONE,
    "query_code": "K7QM-3XZ9-PT2D", "query_url": "https://xf.example.gov.cn/query",
    "office_period": False, "deadline_date": date(2027, 1, 21),
    "reason": "该事项已经人民法院作出生效判决",
    "legal_basis": "《中华人民共和国民事诉讼法》第一百二十七条",
    "channel": "你可以依法申请再审", "request": "要求按协议足额发放房屋拆迁补偿款",
    "facts": "经调查，补偿款已发放30万元", "decision": "不予支持", "opinion": "请你理解",
    "review_authority": "清河县人民政府", "accepted_date": date(2026, 11, 12),
    "extension_reason": "需进一步调查核实", "extension_days": 17,
    "new_due_date": date(2027, 1, 28), "original_office": "清河县住房和城乡建设局",
    "original_doc_number": "清住建信复〔2026〕100017号", "review_request_date": date(2026, 12, 20),
    "conclusion": "维持原处理意见", "next_authority": "沧州市人民政府",
    "served_document": "信访事项处理意见书", "served_doc_number": "清住建信复〔2026〕100017号",
    "service_address": "清河县清河镇枣树营村", "delivery_method": "邮寄"}
# The field each template's body grows by, so that the body can be made to end anywhere.
GROWS = {"acknowledgement": "summary", "non_acceptance": "reason", "transfer_notice": "summary",
         "assignment": "summary", "handling_opinion": "facts", "extension_notice": "summary",
         "review_opinion": "facts", "re_review_opinion": "facts",
         "service_receipt": "service_address"}
FILLER = "经调查核实镇人民政府与你签订了拆迁补偿协议约定的补偿款项已部分发放到位"  # 36 characters
ARTICLES = {"acknowledgement": ["第三十四条"], "non_acceptance": [],
            "transfer_notice": ["第二十二条", "第二十三条"],
            "assignment": ["第二十二条", "第二十三条"], "handling_opinion": ["第三十五条"],
            "extension_notice": ["第三十四条"], "review_opinion": ["第三十五条", "第三十六条"],
            "re_review_opinion": ["第三十六条", "第三十六条第三款"], "service_receipt": []}
FIGURES = {
    "acknowledgement": ["2026年11月10日", REG_NO, PHONE, UNIT],
    "non_acceptance": ["2026年11月10日", "第一百二十七条", "不予受理"],
    "transfer_notice": ["已于2026年11月24日将其转送" + UNIT],
    "assignment": ["于2027年1月21日前办结", "5个工作日内", REG_NO, NAMES + "来访反映"],
    "handling_opinion": ["对你的信访请求不予支持。", "30日内，向清河县人民政府请求复查"],
    "extension_notice": ["已于2026年11月12日受理", "办理期限延长17日，将于2027年1月28日前办结"],
    "review_opinion": ["清住建信复〔2026〕100017号", "于2026年12月20日",
                       "30日内，向沧州市人民政府请求复核"],
    "re_review_opinion": ["于2026年12月20日", "最终处理意见", "不再受理"],
    "service_receipt": ["信访事项处理意见书（清住建信复〔2026〕100017号）", "邮寄"],
}


ARTICLE = "第[一二三四五六七八九十]+条(?:第[一二三四五六七八九十]+款)?"


def _compact(text: str) -> str:
    return "".join(text.split())


def pdf_text(pdf: Path) -> str:
    """Every page's text with LibreOffice's spaces between Chinese and digits taken out."""
    with pdfplumber.open(pdf) as document:
        return _compact("".join(page.extract_text() or "" for page in document.pages))


def last_text_line(pdf: Path) -> tuple[int, int]:
    """(page, line 1-22) of the text's last line above the closing formula and signature."""
    body = [r for r in rows(pdf)[0] if r.size == 16.0 and not r.red]
    body.sort(key=lambda r: (r.page, r.top))
    text = [r for r in body[:-2] if not re.fullmatch(r"特此\w{2}。", _compact(r.text))]
    last = text[-1]
    return last.page, round((last.top - (PITCH - 16 / 72 * 25.4) / 2 - 37.0) / PITCH) + 1


@pytest.fixture(scope="module")
def converter(tmp_path_factory: pytest.TempPathFactory) -> Iterator[letters.WarmConverter]:
    with letters.WarmConverter(tmp_path_factory.mktemp("warm")) as warm:
        yield warm


@pytest.fixture(scope="module")
def make(converter: letters.WarmConverter, tmp_path_factory: pytest.TempPathFactory) -> Any:
    """Render and convert one document: make(template, name, **changes) -> PDF path."""
    folder = tmp_path_factory.mktemp("documents")

    def run(template: str, name: str, **changes: Any) -> Path:
        docx = letters.render_docx(template, {**CONTEXT, **changes}, folder / f"{name}.docx")
        return converter.convert(docx, folder / f"{name}.pdf")

    return run


@pytest.fixture(scope="module")
def plain(make: Any) -> dict[str, Path]:
    """Each template with the long numbers and names, its body short."""
    return {name: make(name, name) for name in letters.template_names()}


@pytest.mark.parametrize("name", letters.template_names())
def test_articles_are_the_laws_and_figures_those_passed_in(plain: dict[str, Path],
                                                           name: str) -> None:
    text = pdf_text(plain[name])
    cited = [article for group in re.findall(f"《信访工作条例》((?:{ARTICLE}、?)+)", text)
             for article in re.findall(ARTICLE, group)]
    assert sorted(set(cited)) == sorted(ARTICLES[name])
    for figure in FIGURES[name]:
        assert figure in text, figure
    assert "2026年11月24日" in text and NAMES in text


def test_the_extension_prints_its_own_days_not_30(plain: dict[str, Path]) -> None:
    text = pdf_text(plain["extension_notice"])
    assert "延长17日" in text and "延长30日" not in text and "第三十五条" not in text


def test_the_assignment_deadline_is_the_one_passed_not_received_plus_60(
        plain: dict[str, Path]) -> None:
    text = pdf_text(plain["assignment"])
    assert "2027年1月21日" in text and "2027年1月9日" not in text  # 2026-11-10 + 60 days


def numbers_in(name: str) -> list[str]:
    """The long registration number and phone, where the template prints them."""
    fields = letters.required_fields(name)
    return [value for field, value in (("reg_no", REG_NO), ("contact_phone", PHONE))
            if field in fields]


@pytest.mark.parametrize("name", letters.template_names())
def test_documents_with_long_numbers_and_names_follow_the_layout(plain: dict[str, Path],
                                                                 name: str) -> None:
    measured = measure_layout(plain[name], letter_format=name != "assignment",
                              unbroken=numbers_in(name))
    assert measured.deviations == []


def test_numbers_and_phones_never_break_across_lines(make: Any) -> None:
    """A phone and a case number start at every position of a line in turn."""
    lines = [f"{'甲' * k}电话{PHONE}，编号{REG_NO}" for k in range(28)]
    pdf = make("acknowledgement", "numbers", summary="\n".join(lines))
    measured = measure_layout(pdf, unbroken=[REG_NO, PHONE])
    assert measured.deviations == []


def grown(name: str, lines: int) -> dict[str, str]:
    """The template's growing field, longer by about this many lines."""
    field = GROWS[name]
    per_line = 20 if name == "service_receipt" else 28  # characters a line (a table cell: 20)
    return {field: CONTEXT[field] + (FILLER * 40)[: lines * per_line]}


def lines_to_the_bottom(make: Any, name: str) -> int:
    """How many lines the body must grow to end on the last line of a page (measured)."""
    extra = 0
    for attempt in range(5):
        pdf = make(name, f"{name}-calibration{attempt}", **grown(name, extra))
        page, line = last_text_line(pdf)
        if page == measure_layout(pdf).pages and line <= 16:  # the closing fitted under it
            return extra + 22 - line
        extra += 8
    raise AssertionError(f"{name}: no body length left room for the closing")


@pytest.mark.parametrize("name", letters.template_names())
def test_a_body_ending_at_the_bottom_of_a_page_keeps_lines_with_the_seal(
        make: Any, name: str) -> None:
    """The body made to end on a page's last lines: the signature never goes alone."""
    bottom = lines_to_the_bottom(make, name)
    for short in (0, 3):  # the body ends on line 22, or on line 19
        pdf = make(name, f"{name}-end{22 - short}", **grown(name, bottom - short))
        measured = measure_layout(pdf, letter_format=name != "assignment",
                                  unbroken=numbers_in(name))
        assert measured.deviations == [], (short, measured.deviations)
        assert measured.values["text lines with the signature"] >= 1


@pytest.mark.skipif(shutil.which("pdftotext") is None, reason="needs pdftotext (poppler-utils)")
def test_the_acknowledgement_asks_to_stay_reachable_and_keeps_to_one_page(make: Any) -> None:
    """The 受理告知书 of an ordinary matter (one petitioner, a county bureau, the query code
    and page) keeps "请你保持通信畅通，配合调查核实。" and fits on one page."""
    import subprocess

    pdf = make("acknowledgement", "reachable", petitioner_name="韩秋菊",
               handling_unit="县自然资源局", contact_phone="0394-8123456",
               summary="高速公路征地补偿款至今没有发放，请求督促兑现",
               query_url="http://localhost:5000/query", doc_number="信受〔2026〕17号")
    with pdfplumber.open(pdf) as document:
        assert len(document.pages) == 1
    text = _compact(subprocess.run(["pdftotext", "-layout", str(pdf), "-"], capture_output=True,
                                   text=True, check=True).stdout)
    assert "请你保持通信畅通，配合调查核实。联系电话：0394-8123456。" in text
    assert "凭查询码K7QM-3XZ9-PT2D在http://localhost:5000/query查询进展、作出评价。" in text
