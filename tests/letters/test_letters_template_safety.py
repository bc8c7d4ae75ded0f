"""Issue 19, items 5 and 6: templates that reach outside are refused, and rendering is bounded."""

from __future__ import annotations

import time
import zipfile
from collections.abc import Callable
from pathlib import Path
from typing import Any

import pytest
from lxml import etree

import letters
from letters import TemplateError, render_docx, required_fields
from letters._inspection import check_rendered
from tests.letters.docx_links import (
    IMAGE_REL,
    LINKED_IMAGE,
    NAMESPACES,
    URL,
    complex_field,
    patched,
)

BUILT_IN = Path(letters.__file__).parent / "templates" / "acknowledgement.docx"
ADDRESSEE = "{{ petitioner_name }}："

REFUSED = {
    "linked image": (LINKED_IMAGE, IMAGE_REL.format(url=URL),
                     ["外部链接 rIdLeak", URL, "链接到文件的图片"]),
    "chosen by a condition": (
        LINKED_IMAGE,
        IMAGE_REL.format(url="http://127.0.0.1:9/{% if petitioner_name[0] == '王' %}1{% endif %}"),
        ["外部链接 rIdLeak", "关系表"]),
    "hyperlink": ("", '<Relationship Id="rIdH" Type="http://schemas.openxmlformats.org/'
                  'officeDocument/2006/relationships/hyperlink" Target="https://example.org/x" '
                  'TargetMode="External"/>', ["外部链接 rIdH", "hyperlink", "https://example.org/x"]),
    "INCLUDEPICTURE": (complex_field(f' INCLUDEPICTURE "{URL}" \\d '), "",
                       ["INCLUDEPICTURE", "落款处", "会读取外部内容的域"]),
    "INCLUDETEXT, simple field": (
        f'<w:p><w:fldSimple w:instr=" INCLUDETEXT &quot;{URL}&quot; "><w:r><w:t>x</w:t></w:r>'
        "</w:fldSimple></w:p>", "", ["INCLUDETEXT"]),
    "LINK": (complex_field(' LINK Excel.Sheet.12 "C:\\\\data.xlsx" "Sheet1!R1C1" \\a '), "",
             ["LINK Excel.Sheet.12"]),
    "DDEAUTO": (complex_field(' DDEAUTO c:\\\\windows\\\\system32\\\\cmd.exe "/k calc" '), "",
                ["DDEAUTO"]),
    "a field split over runs": (
        '<w:p><w:r><w:fldChar w:fldCharType="begin"/></w:r><w:r><w:instrText> INCLUDE'
        '</w:instrText></w:r><w:r><w:instrText>PICTURE "x.png" </w:instrText></w:r>'
        '<w:r><w:fldChar w:fldCharType="end"/></w:r></w:p>', "", ["INCLUDEPICTURE"]),
    "a tag inside a field code": (complex_field(" {{ petitioner_name }} "), "",
                                  ["含模板标签的域代码"]),
    "OLE link": ('<w:p><w:r><w:object><o:OLEObject Type="Link" ProgID="Excel.Sheet.12" '
                 'ShapeID="_x0000_i1025" DrawAspect="Content" r:id="rId1" UpdateMode="Always"/>'
                 "</w:object></w:r></w:p>", "", ["链接的 OLE 对象", "Excel.Sheet.12"]),
    "altChunk": ('<w:altChunk r:id="rId1"/>', "", ["altChunk"]),
}


@pytest.mark.parametrize("case", sorted(REFUSED))
def test_templates_that_reach_outside_are_refused_with_what_and_where(tmp_path: Path,
                                                                      case: str) -> None:
    body, rels, expected = REFUSED[case]
    template = patched(tmp_path, body, rels)
    with pytest.raises(TemplateError) as caught:
        required_fields(template)
    message = str(caught.value)
    assert "模板 office.docx" in message and "不能使用" in message
    for words in expected:
        assert words in message, message


def test_a_field_in_a_footer_is_found_and_placed(tmp_path: Path) -> None:
    template = patched(tmp_path, complex_field(f' INCLUDEPICTURE "{URL}" '),
                       part="word/footer1.xml")
    with pytest.raises(TemplateError, match=r"页脚（word/footer1.xml）.*INCLUDEPICTURE"):
        required_fields(template)


def test_a_mail_merge_data_source_is_refused(tmp_path: Path) -> None:
    with zipfile.ZipFile(BUILT_IN) as z:
        settings = z.read("word/settings.xml").decode()
    merge = ('<w:mailMerge><w:mainDocumentType w:val="formLetters"/><w:dataType w:val="odbc"/>'
             '<w:connectString w:val="DSN=leak"/></w:mailMerge>')
    settings = settings.replace("<w:defaultTabStop", merge + "<w:defaultTabStop", 1)
    template = patched(tmp_path, replace={"word/settings.xml": settings.encode()})
    with pytest.raises(TemplateError, match=r"文档设置.*邮件合并数据源.*DSN=leak"):
        required_fields(template)


def test_page_numbers_and_plain_templates_pass(tmp_path: Path) -> None:
    """The PAGE fields of the footers are no finding: every built-in template is accepted."""
    for name in letters.template_names():
        assert required_fields(name)
    template = patched(tmp_path, complex_field(" PAGE "))
    assert "petitioner_name" in required_fields(template)


def test_a_rendered_reply_is_scanned_too() -> None:
    root = etree.fromstring(f'<w:document {NAMESPACES}><w:body>'
                            + complex_field(f' INCLUDEPICTURE "{URL}" ')
                            + "</w:body></w:document>")
    with pytest.raises(TemplateError, match="INCLUDEPICTURE"):
        check_rendered(root, "/word/document.xml", "模板 x.docx")


def test_autoescape_cannot_be_turned_off(edit_template: Callable[..., Path]) -> None:
    """Without autoescape a value could write a fetching field into the reply's XML."""
    template = edit_template(ADDRESSEE, ["{% autoescape false %}{{ petitioner_name }}"
                                         "{% endautoescape %}："])
    with pytest.raises(TemplateError, match="不允许"):
        required_fields(template)


@pytest.mark.parametrize("code", ["{{ petitioner_name|safe }}", "{{ 'x'|center(999999999) }}",
                                  "{{ 'x'|indent(999999999, true) }}"])
def test_filters_that_unescape_or_blow_up_do_not_exist(edit_template: Callable[..., Path],
                                                       code: str) -> None:
    with pytest.raises(TemplateError, match="No filter named"):
        required_fields(edit_template(ADDRESSEE, [code]))


# ---- item 6: bounded size and time


def million_paragraphs(folder: Path) -> Path:
    """48 kB on disk: a million empty paragraphs in the body."""
    return patched(folder, "<w:p/>" * 1_000_000, name="million.docx")


@pytest.mark.timeout(60)
def test_a_million_empty_paragraphs_are_refused_at_once(tmp_path: Path) -> None:
    template = million_paragraphs(tmp_path)
    assert template.stat().st_size < 100_000
    started = time.monotonic()
    with pytest.raises(TemplateError, match="正文（word/document.xml） 解压后超过 2 MB"):
        required_fields(template)
    assert time.monotonic() - started < 2.0


@pytest.mark.timeout(60)
def test_too_many_paragraphs_are_refused(tmp_path: Path) -> None:
    template = patched(tmp_path, "<w:p/>" * 5000, name="many.docx")
    with pytest.raises(TemplateError, match="有 50[0-9]{2} 个段落，超过上限 3000"):
        required_fields(template)


BOUNDED = {
    "nested range loops": ("{% for a in range(1000) %}{% for b in range(1000) %}"
                           "{% for c in range(1000) %}{% endfor %}{% endfor %}{% endfor %}",
                           "运算次数超过上限"),
    "an exponential macro": ("{% macro grow(n) %}{% if n %}{{ grow(n - 1) }}{{ grow(n - 1) }}"
                             "{% endif %}{% endmacro %}{{ grow(60) }}", "运算次数超过上限"),
    "a recursive loop": ("{% for x in range(2) recursive %}{% if loop.depth < 60 %}"
                         "{{ loop(range(2)) }}{% endif %}{% endfor %}", "运算次数超过上限"),
    "a huge repetition": ("{{ 'x' * 999999999 }}", "会生成 999999999 个字符"),
    "a huge join": ("{{ range(10000)|join('x' * 1000000) }}", "会生成"),
    "a huge replace": ("{{ ('x' * 100000)|replace('x', 'y' * 100000) }}", "会生成"),
    "a huge range": ("{{ range(999999999)|list }}", "range 有 999999999 项"),
    "a string format": ("{{ '%0999999999d' % 1 }}", "不能用 % 格式化"),
    "a method that pads": ("{{ ' '.ljust(999999999) }}", "refused by the sandbox"),
    "text repeated by a loop": ("{% for a in range(10000) %}{% for b in range(100) %}"
                                "{{ petitioner_name }}{% endfor %}{% endfor %}",
                                "运算次数超过上限"),
    "a value appended to": ("{% set seen = [] %}{{ seen.append(1) }}", "refused by the sandbox"),
}


@pytest.mark.timeout(60)
@pytest.mark.parametrize("case", sorted(BOUNDED))
def test_rendering_is_bounded(edit_template: Callable[..., Path], tmp_path: Path,
                              context: dict[str, Any], case: str) -> None:
    code, message = BOUNDED[case]
    template = edit_template(ADDRESSEE, [code + "："])
    started = time.monotonic()
    with pytest.raises(TemplateError, match=message):
        render_docx(template, context, tmp_path / "reply.docx")
    assert time.monotonic() - started < 10.0
    assert not (tmp_path / "reply.docx").exists()


def test_rendering_has_a_time_limit(edit_template: Callable[..., Path], tmp_path: Path,
                                    context: dict[str, Any]) -> None:
    template = edit_template(ADDRESSEE, ["{% for a in range(10000) %}{% for b in range(10) %}"
                                         "{% endfor %}{% endfor %}："])
    with pytest.raises(TemplateError, match="渲染超过 0.001 秒"):
        render_docx(template, context, tmp_path / "reply.docx", seconds=0.001)


def test_ordinary_loops_and_methods_still_work(edit_template: Callable[..., Path],
                                               tmp_path: Path, context: dict[str, Any]) -> None:
    template = edit_template(ADDRESSEE, [
        "{% for part in petitioner_name.split('、') %}{{ loop.index }}{{ part.strip() }}"
        "{% endfor %}{{ ['a', 'b']|join('-') }}{{ 'ab'|replace('a', 'c') }}{{ 3 * 2 }}："])
    out = render_docx(template, {**context, "petitioner_name": "王秀英、李四"},
                      tmp_path / "reply.docx")
    assert "1王秀英2李四a-bcb6：" in letters.docx_text(out)
