"""What a .docx template may hold: parts of bounded size, and nothing that reaches outside.

LibreOffice follows what a document points at while it converts: a linked image is fetched, and
Jinja2 conditions on the letter's fields could choose the address, so that a template would leak
a letter bit by bit or make the server call any address. A template is therefore refused, with
the thing found and where it is, when it carries an external relationship (linked image,
hyperlink, attached template, data source), a field that fetches (INCLUDETEXT, INCLUDEPICTURE,
LINK, DDE ...), an OLE link, an altChunk or a mail merge data source. The same scan runs on every
part after rendering, so that no value can put such a thing into a reply either.

Sizes are checked before any XML is parsed: a 48 kB zip of a million empty paragraphs is 7 MB
of XML, and would hold a worker for minutes.
"""

from __future__ import annotations

import re
import zipfile
from collections.abc import Iterator
from pathlib import Path, PurePosixPath

from lxml import etree

from letters._errors import TemplateError

W = "http://schemas.openxmlformats.org/wordprocessingml/2006/main"
R = "http://schemas.openxmlformats.org/officeDocument/2006/relationships"
OFFICE = "urn:schemas-microsoft-com:office:office"
A = "http://schemas.openxmlformats.org/drawingml/2006/main"
V = "urn:schemas-microsoft-com:vml"
PKG_RELS = "http://schemas.openxmlformats.org/package/2006/relationships"

MAX_PARTS = 300
MAX_XML_PART = 2_000_000  # bytes of one XML part, uncompressed (the built-ins: 440 kB at most)
MAX_TOTAL = 30_000_000  # bytes of the whole package, uncompressed (images included)
MAX_PARAGRAPHS = 3_000  # in one part; a long opinion template has about 100

# Fields whose result LibreOffice or Word fetch from a file, a URL or another program.
FETCHING_FIELDS = ("INCLUDETEXT", "INCLUDEPICTURE", "INCLUDE", "IMPORT", "LINK", "DDEAUTO", "DDE",
                   "DATABASE", "HYPERLINK", "AUTOTEXTLIST")
_FIELD_WORD = re.compile(r"\b(" + "|".join(FETCHING_FIELDS) + r")\b", re.IGNORECASE)
_ADDRESS = re.compile(r"[a-z][a-z0-9+.-]*://|\\\\|file:", re.IGNORECASE)
_JINJA = re.compile(r"\{[{%#]|[}%#]\}")

_PART_NAMES = {"word/document.xml": "正文", "word/settings.xml": "文档设置",
               "word/footnotes.xml": "脚注", "word/endnotes.xml": "尾注",
               "word/comments.xml": "批注", "word/styles.xml": "样式",
               "word/webSettings.xml": "网页设置", "word/fontTable.xml": "字体表"}


def part_name(name: str) -> str:
    """Say in the office's words which part of the document a finding is in."""
    name = name.lstrip("/")
    if name in _PART_NAMES:
        return f"{_PART_NAMES[name]}（{name}）"
    stem = PurePosixPath(name).name
    for prefix, words in (("header", "页眉"), ("footer", "页脚")):
        if stem.startswith(prefix):
            return f"{words}（{name}）"
    if name.endswith(".rels"):
        owner = name.replace("_rels/", "").removesuffix(".rels") or "文档包"
        return f"{part_name(owner)}的关系表"
    return name


def check_package(path: Path, label: str) -> None:
    """Refuse a template too big to handle or that points outside itself (TemplateError)."""
    try:
        with zipfile.ZipFile(path) as z:
            members = z.infolist()
            if len(members) > MAX_PARTS:
                raise TemplateError(f"{label}：文档包含 {len(members)} 个部件，超过上限 "
                                    f"{MAX_PARTS}，不像是一份文书模板")
            total = 0
            findings: list[str] = []
            for member in members:
                if member.is_dir():
                    continue
                is_xml = member.filename.endswith((".xml", ".rels"))
                limit = MAX_XML_PART if is_xml else MAX_TOTAL
                with z.open(member) as f:
                    data = f.read(limit + 1)  # never more than the limit, whatever the zip says
                if len(data) > limit:
                    raise TemplateError(
                        f"{label}：{part_name(member.filename)} 解压后超过 "
                        f"{limit // 1_000_000} MB，模板过大；请删除多余的内容（大量空段落、图片）"
                        "后再上传")
                total += len(data)
                if total > MAX_TOTAL:
                    raise TemplateError(f"{label}：文档解压后超过 {MAX_TOTAL // 1_000_000} MB，"
                                        "模板过大")
                if is_xml:
                    findings += _inspect_part(member.filename, data, label)
    except zipfile.BadZipFile as e:
        raise TemplateError(f"{label}：不是有效的 Word 文档（{e}）") from e
    if findings:
        raise TemplateError(_refusal(label, findings))


def check_rendered(root: etree._Element, where: str, label: str) -> None:
    """After rendering: refuse a reply whose XML now holds a fetching field or a link."""
    findings = list(_content_findings(root, where))
    if findings:
        raise TemplateError(_refusal(label, findings))


def _refusal(label: str, findings: list[str]) -> str:
    shown = "；".join(findings[:5]) + (f"；等共 {len(findings)} 处" if len(findings) > 5 else "")
    return (f"{label}：模板含有指向文档以外的内容，LibreOffice 转换时会去读取它，"
            f"可能泄露来信内容，因此不能使用。发现：{shown}。请在 Word 中删除这些链接、域或对象"
            "（图片请用“插入 → 图片”嵌入，不要“链接到文件”），另存为 .docx 后再上传")


def _inspect_part(name: str, data: bytes, label: str) -> list[str]:
    """Findings in one XML part: external relationships, or fields and links in content."""
    try:
        root = etree.fromstring(data, parser=etree.XMLParser(resolve_entities=False,
                                                             no_network=True, huge_tree=False))
    except etree.XMLSyntaxError as e:
        raise TemplateError(f"{label}：{part_name(name)} 不是有效的 XML（{e}）") from e
    if name.endswith(".rels"):
        return list(_relationship_findings(root, name))
    paragraphs = sum(1 for _ in root.iter(f"{{{W}}}p"))
    if paragraphs > MAX_PARAGRAPHS:
        raise TemplateError(f"{label}：{part_name(name)} 有 {paragraphs} 个段落，超过上限 "
                            f"{MAX_PARAGRAPHS}；请删除多余的空段落后再上传")
    return list(_content_findings(root, part_name(name), templates=True))


def _relationship_findings(root: etree._Element, name: str) -> Iterator[str]:
    for rel in root.iter(f"{{{PKG_RELS}}}Relationship"):
        if (rel.get("TargetMode") or "").lower() == "external":
            kind = (rel.get("Type") or "").rsplit("/", 1)[-1]
            target = rel.get("Target") or ""
            yield (f"{part_name(name)}中的外部链接 {rel.get('Id')}（类型 {kind}）→ "
                   f"“{target[:80]}”")


def _paragraph_of(element: etree._Element) -> str:
    """Quote the start of the paragraph an element sits in, to say where it is."""
    p = next(element.iterancestors(f"{{{W}}}p"), None)
    if p is None:
        return ""
    text = "".join(t.text or "" for t in p.iter(f"{{{W}}}t")).strip()
    return f"，所在段落“{text[:20]}”" if text else ""


def _content_findings(root: etree._Element, where: str, *, templates: bool = False
                      ) -> Iterator[str]:
    """Fields that fetch, OLE links, linked images, altChunks and mail merge sources."""
    for instruction, element in _field_instructions(root):
        fetching = _FIELD_WORD.search(instruction)
        address = _ADDRESS.search(instruction)
        tagged = templates and _JINJA.search(instruction)
        if fetching or address or tagged:
            why = ("会读取外部内容的域" if fetching or address else "含模板标签的域代码")
            yield f"{where}{_paragraph_of(element)}：{why}“{instruction.strip()[:60]}”"
    for element in root.iter(f"{{{OFFICE}}}OLEObject"):
        if (element.get("Type") or "").lower() == "link":
            yield f"{where}{_paragraph_of(element)}：链接的 OLE 对象（{element.get('ProgID')}）"
    for element in root.iter(f"{{{A}}}blip"):
        link = element.get(f"{{{R}}}link")
        if link:
            yield f"{where}{_paragraph_of(element)}：链接到文件的图片（关系 {link}）"
    for element in root.iter(f"{{{V}}}imagedata", f"{{{V}}}fill", f"{{{V}}}image"):
        for attribute in ("src", f"{{{OFFICE}}}href", f"{{{R}}}href"):
            value = element.get(attribute)
            if value and (_ADDRESS.search(value) or attribute != "src"):
                yield f"{where}{_paragraph_of(element)}：链接到文件的图片（{value[:80]}）"
    for element in root.iter(f"{{{W}}}altChunk"):
        yield f"{where}{_paragraph_of(element)}：外部内容块（altChunk）"
    for element in root.iter(f"{{{W}}}mailMerge"):
        yield f"{where}：邮件合并数据源（mailMerge{_source_of(element)}）"


def _source_of(merge: etree._Element) -> str:
    """Name a mail merge's data source, when the settings say it."""
    source = merge.find(f"{{{W}}}connectString")
    value = source.get(f"{{{W}}}val") if source is not None else None
    return f"，“{value[:60]}”" if value else ""


def _field_instructions(root: etree._Element) -> Iterator[tuple[str, etree._Element]]:
    """Each field's instruction: simple fields, and complex ones (nested too) put together."""
    for simple in root.iter(f"{{{W}}}fldSimple"):
        yield simple.get(f"{{{W}}}instr") or "", simple
    open_fields: list[tuple[list[str], etree._Element]] = []
    for element in root.iter(f"{{{W}}}fldChar", f"{{{W}}}instrText", f"{{{W}}}delInstrText"):
        if element.tag == f"{{{W}}}fldChar":
            kind = element.get(f"{{{W}}}fldCharType")
            if kind == "begin":
                open_fields.append(([], element))
            elif kind == "end" and open_fields:
                parts, begin = open_fields.pop()
                yield "".join(parts), begin
        elif open_fields:
            open_fields[-1][0].append(element.text or "")
        else:  # instruction text outside any field: judge it alone
            yield element.text or "", element
    for parts, begin in open_fields:  # never closed
        yield "".join(parts), begin
