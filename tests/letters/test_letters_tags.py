"""Templates edited in Word: split tags mended when harmless, broken ones named; the sandbox."""

from __future__ import annotations

from collections.abc import Callable
from pathlib import Path
from typing import Any

import pytest
from docx.oxml import OxmlElement
from docx.oxml.ns import qn

from letters import TemplateError, docx_text, render_docx, required_fields

ADDRESSEE = "{{ petitioner_name }}："


def _proof_error(runs: list[Any]) -> None:
    """Put the spell checker's markers around the middle run, as Word does."""
    start, end = OxmlElement("w:proofErr"), OxmlElement("w:proofErr")
    start.set(qn("w:type"), "spellStart")
    end.set(qn("w:type"), "spellEnd")
    runs[1]._r.addprevious(start)
    runs[1]._r.addnext(end)


def _bold_middle(runs: list[Any]) -> None:
    runs[1].bold = True


def _tracked_insertion(runs: list[Any]) -> None:
    insertion = OxmlElement("w:ins")
    insertion.set(qn("w:id"), "1")
    insertion.set(qn("w:author"), "clerk")
    runs[1]._r.addprevious(insertion)
    insertion.append(runs[1]._r)


def _word_run_noise(runs: list[Any]) -> None:
    """Revision ids on runs, a font hint and a proofing language: invisible, but they split."""
    for number, run in enumerate(runs):
        run._r.set(qn("w:rsidR"), f"00A1B2C{number}")
    hint = OxmlElement("w:rFonts")
    hint.set(qn("w:hint"), "eastAsia")
    runs[2]._r.get_or_add_rPr().append(hint)
    lang = OxmlElement("w:lang")
    lang.set(qn("w:val"), "en-US")
    runs[1]._r.get_or_add_rPr().append(lang)


@pytest.mark.parametrize("tweak", [_proof_error, _word_run_noise, None])
def test_word_splits_are_mended(edit_template: Callable[..., Path], tmp_path: Path,
                                context: dict[str, Any],
                                tweak: Callable[[list[Any]], None] | None) -> None:
    template = edit_template(ADDRESSEE, ["{{ ", "petitioner_name", " }}："], tweak)
    assert required_fields(template) >= {"petitioner_name"}
    out = render_docx(template, context, tmp_path / "reply.docx")
    assert "王秀英：" in docx_text(out).splitlines()


def test_split_with_same_formatting_is_mended(edit_template: Callable[..., Path],
                                              tmp_path: Path, context: dict[str, Any]) -> None:
    def same_font(runs: list[Any]) -> None:
        for run in runs:
            run.font.name = "仿宋_GB2312"

    template = edit_template(ADDRESSEE, ["{", "{ petitioner_", "name }", "}："], same_font)
    out = render_docx(template, context, tmp_path / "reply.docx")
    assert "王秀英：" in docx_text(out).splitlines()


def test_split_with_different_formatting_is_named(edit_template: Callable[..., Path]) -> None:
    template = edit_template(ADDRESSEE, ["{{ petit", "ioner_na", "me }}："], _bold_middle)
    with pytest.raises(TemplateError) as caught:
        required_fields(template)
    message = str(caught.value)
    assert "{{ petitioner_name }}" in message
    assert "split across 3 runs" in message
    assert "formatted differently" in message
    assert "edited.docx" in message


def test_split_by_a_tracked_change_is_named(edit_template: Callable[..., Path],
                                            tmp_path: Path, context: dict[str, Any]) -> None:
    template = edit_template(ADDRESSEE, ["{{ petitioner_", "name", " }}："], _tracked_insertion)
    with pytest.raises(TemplateError, match=r"\{\{ petitioner_name \}\} is split.*different"):
        render_docx(template, context, tmp_path / "reply.docx")
    assert not (tmp_path / "reply.docx").exists()


def test_split_by_a_tab_is_named(edit_template: Callable[..., Path]) -> None:
    def tab(runs: list[Any]) -> None:
        runs[0].add_tab()

    template = edit_template(ADDRESSEE, ["{{ petitioner_", "name }}："], tab)
    with pytest.raises(TemplateError, match="'tab' content between them"):
        required_fields(template)


@pytest.mark.parametrize(("pieces", "expected"), [
    (["{{ petitioner_name }："], r"'\{\{' is never closed by '\}\}' in “\{\{ petitioner_name \}："),
    (["{ petitioner_name }}："], r"'\}\}' closes nothing near “\{ petitioner_name \}\}："),
    (["{% if petitioner_name %}", "{{ petitioner_name }}："], r"syntax error.*endif"),
    (["{{ petitioner_name ", "}}："], None),  # not broken: the split is harmless
    (["｛｛ petitioner_name ｝｝："], r"full-width brace in '｛｛'.*half-width"),
    (["{{ petitioner_name }｝："], r"full-width brace"),
    (["{{ petitioner name }}："], r"syntax error near “\{\{ petitioner name \}\}：”"),
    (["{{ petitioner_name|shout }}："], r"No filter named 'shout'"),
])
def test_broken_tags_are_named(edit_template: Callable[..., Path], pieces: list[str],
                               expected: str | None) -> None:
    template = edit_template(ADDRESSEE, pieces)
    if expected is None:
        assert "petitioner_name" in required_fields(template)
        return
    with pytest.raises(TemplateError, match=expected) as caught:
        required_fields(template)
    assert str(caught.value).startswith("template 'edited.docx', body")


def test_tag_broken_across_paragraphs_is_named(edit_template: Callable[..., Path]) -> None:
    def new_paragraph(runs: list[Any]) -> None:
        paragraph = runs[0]._r.getparent()
        following = OxmlElement("w:p")
        paragraph.addnext(following)
        following.append(runs[1]._r)

    template = edit_template(ADDRESSEE, ["{{ petitioner_", "name }}："], new_paragraph)
    with pytest.raises(TemplateError, match=r"paragraph 6: unbalanced braces: '\{\{' is never"):
        required_fields(template)


@pytest.mark.parametrize("code", [
    "{{ ''.__class__.__mro__ }}",
    "{{ ''.__class__ }}",
    "{{ petitioner_name.__class__.__base__.__subclasses__() }}",
    "{{ cycler.__init__.__globals__ }}",
])
def test_sandbox_refuses_escapes(edit_template: Callable[..., Path], tmp_path: Path,
                                 context: dict[str, Any], code: str) -> None:
    template = edit_template(ADDRESSEE, [code])
    with pytest.raises(TemplateError, match="template 'edited.docx': refused by the sandbox"):
        render_docx(template, context, tmp_path / "reply.docx")
    assert not (tmp_path / "reply.docx").exists()


def test_template_code_errors_are_template_errors(edit_template: Callable[..., Path],
                                                  tmp_path: Path,
                                                  context: dict[str, Any]) -> None:
    template = edit_template(ADDRESSEE, ["{{ 1 / 0 }}"])
    with pytest.raises(TemplateError, match="ZeroDivisionError"):
        render_docx(template, context, tmp_path / "reply.docx")


def test_block_that_cuts_the_xml_apart_is_refused(
        edit_template: Callable[..., Path], tmp_path: Path, context: dict[str, Any]) -> None:
    import docx

    # "{% if %}" in a body paragraph and "{% endif %}" inside a table cell: when the condition
    # is false, Jinja2 drops the XML between them and the tags no longer nest.
    template = edit_template(ADDRESSEE, ["{% if show %}{{ petitioner_name }}："])
    doc = docx.Document(str(template))
    doc.add_table(rows=1, cols=1).cell(0, 0).text = "{% endif %}"
    doc.save(str(template))
    assert "show" in required_fields(template)
    with pytest.raises(TemplateError, match=r"broken document XML.*\{%p \.\.\. %\}"):
        render_docx(template, {**context, "show": False}, tmp_path / "reply.docx")
    assert not (tmp_path / "reply.docx").exists()


def test_p_form_blocks_work(edit_template: Callable[..., Path], tmp_path: Path,
                            context: dict[str, Any]) -> None:
    import docx

    template = edit_template(ADDRESSEE, [ADDRESSEE])
    doc = docx.Document(str(template))
    addressee = next(p for p in doc.paragraphs if p.text == ADDRESSEE)
    addressee.insert_paragraph_before("{%p if copy_to %}")
    addressee.insert_paragraph_before("抄送：{{ copy_to }}")
    addressee.insert_paragraph_before("{%p endif %}")
    doc.save(str(template))
    assert "copy_to" in required_fields(template)
    with_copy = docx_text(render_docx(template, {**context, "copy_to": "清河镇人民政府"},
                                      tmp_path / "a.docx"))
    assert "抄送：清河镇人民政府" in with_copy
    without = docx_text(render_docx(template, {**context, "copy_to": ""}, tmp_path / "b.docx"))
    assert "抄送" not in without
