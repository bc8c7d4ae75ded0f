"""Rendering the acknowledgement: content, escaping, missing fields, atomic output."""

from __future__ import annotations

import zipfile
from collections.abc import Callable
from datetime import date, datetime
from pathlib import Path
from typing import Any

import docx
import pytest
from markupsafe import Markup

from letters import TemplateError, docx_text, render_docx


def test_rendered_reply_opens_and_says_what_it_should(render: Callable[..., Path]) -> None:
    out = render()
    assert out.name == "reply.docx"
    docx.Document(str(out))  # python-docx opens it
    text = docx_text(out)
    for expected in (
        "清河县信访局", "信访事项受理告知书", "清信受〔2026〕17号", "王秀英：",
        "你于2026年11月10日提出的信访事项（登记编号：2026-000017）收悉。",
        "枣树营村房屋拆迁补偿款未按协议足额发放的问题。",
        "交由清河县住房和城乡建设局依法办理",
        "自受理之日起60日内办结", "不得超过30日", "联系电话：0319-8123456。",
        "特此告知。", "2026年11月24日",
    ):
        assert expected in text
    assert "{{" not in text and "{%" not in text


def test_text_paragraphs_in_order(render: Callable[..., Path]) -> None:
    lines = [line for line in docx_text(render()).splitlines() if line]
    assert lines[:3] == ["清信受〔2026〕17号", "信访事项受理告知书", "王秀英："]
    assert lines[-3:] == ["特此告知。", "清河县信访局", "2026年11月24日"]


@pytest.mark.parametrize("value", [
    "张三 & 李四", "<王五>", 'a "quoted" name', "O'Brien", "&amp; already escaped",
    "A&B <c> \"d\" 'e' &#39; &lt; end",
])
def test_special_characters_survive(render: Callable[..., Path], value: str) -> None:
    text = docx_text(render(petitioner_name=value, summary=value))
    assert f"{value}：" in text
    assert f"主要问题是：{value}" in text


@pytest.mark.parametrize("value", ["{{ 7*7 }}", "{% for x in y %}", "{# note #}", "{%p if 1 %}",
                                   "{{ ''.__class__.__mro__ }}", "}} %} {_{"])
def test_template_syntax_in_values_is_printed_not_run(render: Callable[..., Path],
                                                      value: str) -> None:
    text = docx_text(render(summary=value))
    assert f"主要问题是：{value}" in text
    assert "49" not in text.split("主要问题是：")[1].split("。")[0]


def test_markup_values_are_escaped_too(render: Callable[..., Path]) -> None:
    value = Markup("</w:t></w:r><w:r><w:t>injected")
    assert f"{value}：" in docx_text(render(petitioner_name=value))


def test_control_characters_are_dropped(render: Callable[..., Path]) -> None:
    text = docx_text(render(petitioner_name="王\x00秀\x07英\x0c", summary="问题\r\n第二行"))
    assert "王秀英：" in text
    assert "问题\n第二行" in text  # a line break inside the paragraph


def test_missing_fields_are_all_named(tmp_path: Path, context: dict[str, Any]) -> None:
    del context["reg_no"]
    del context["summary"]
    context["contact_phone"] = None
    with pytest.raises(TemplateError) as caught:
        render_docx("acknowledgement", context, tmp_path / "reply.docx")
    assert "missing fields: contact_phone, reg_no, summary" in str(caught.value)
    assert not (tmp_path / "reply.docx").exists()


def test_dates_must_be_dates(render: Callable[..., Path]) -> None:
    with pytest.raises(TemplateError, match="'received_date' must be a datetime.date, got str"):
        render(received_date="2026-11-10")


def test_datetimes_print_as_dates(render: Callable[..., Path]) -> None:
    assert "2026年1月5日" in docx_text(render(issue_date=datetime(2026, 1, 5, 16, 30)))


def test_extra_context_keys_are_ignored(render: Callable[..., Path]) -> None:
    assert "王秀英：" in docx_text(render(unused="x", letter_id=17))


def test_summary_gets_exactly_one_full_stop(render: Callable[..., Path]) -> None:
    text = docx_text(render(summary="拖欠工资问题。"))
    assert "主要问题是：拖欠工资问题。\n" in text


def test_output_replaces_an_old_file_and_leaves_no_temporary(render: Callable[..., Path],
                                                            tmp_path: Path) -> None:
    (tmp_path / "reply.docx").write_bytes(b"old version")
    out = render()
    assert out.read_bytes()[:2] == b"PK"
    assert sorted(p.name for p in tmp_path.iterdir()) == ["reply.docx"]


def test_failed_render_leaves_the_old_file(render: Callable[..., Path], tmp_path: Path) -> None:
    (tmp_path / "reply.docx").write_bytes(b"old version")
    with pytest.raises(TemplateError):
        render(issue_date="tomorrow")
    assert (tmp_path / "reply.docx").read_bytes() == b"old version"
    assert sorted(p.name for p in tmp_path.iterdir()) == ["reply.docx"]


def test_rendering_twice_gives_the_same_text(render: Callable[..., Path]) -> None:
    assert docx_text(render(out="a.docx")) == docx_text(render(out="b.docx"))


def test_context_is_not_modified(tmp_path: Path, context: dict[str, Any]) -> None:
    before = dict(context)
    render_docx("acknowledgement", context, tmp_path / "r.docx")
    assert context == before
    assert context["issue_date"] == date(2026, 11, 24)


EXTENSION = {"accepted_date": date(2026, 11, 12), "extension_reason": "需进一步调查核实",
             "new_due_date": date(2027, 1, 28)}


@pytest.mark.parametrize("days", [17, "17", " 17 "])
def test_the_extension_prints_the_days_chosen(render: Callable[..., Path], days: Any) -> None:
    text = docx_text(render("extension_notice", extension_days=days, **EXTENSION))
    assert "第三十四条" in text and "办理期限延长17日，将于2027年1月28日前办结" in text


@pytest.mark.parametrize("days", [0, 31, "三十", "17.5", True])
def test_an_extension_outside_1_to_30_days_is_refused(render: Callable[..., Path],
                                                      days: Any) -> None:
    with pytest.raises(TemplateError, match="extension_days|延长办理期限"):
        render("extension_notice", extension_days=days, **EXTENSION)


def test_a_decision_outside_section_32_is_refused(render: Callable[..., Path]) -> None:
    opinion = {"request": "请求", "facts": "事实", "legal_basis": "《某条例》第一条",
               "opinion": "意见", "review_authority": "县人民政府"}
    for decision, words in (("支持", "予以支持"), ("不予支持", "不予支持"),
                            ("解释说明", "作如下解释说明")):
        assert words in docx_text(render("handling_opinion", decision=decision, **opinion))
    with pytest.raises(TemplateError, match="只能是支持、解释说明、不予支持之一"):
        render("handling_opinion", decision="部分支持", **opinion)


def test_hyphens_inside_numbers_get_word_joiners(render: Callable[..., Path]) -> None:
    """LibreOffice breaks a line after a hyphen (2026-/000008); joiners forbid it."""
    out = render(reg_no="2026-000008", summary="电话0319-8123456，编号A-1，中-英不变")
    xml = zipfile.ZipFile(out).read("word/document.xml").decode()
    assert "2026\u2060-\u2060000008" in xml and "0319\u2060-\u20608123456" in xml
    assert "A\u2060-\u20601" in xml and "中-英" in xml
    assert "2026-000008" in docx_text(out)  # the joiners are no text
