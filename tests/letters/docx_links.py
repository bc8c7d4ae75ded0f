"""Word packages that point outside themselves, for the template check and converter tests."""

from __future__ import annotations

import zipfile
from pathlib import Path

import letters

BUILT_IN = Path(letters.__file__).parent / "templates" / "acknowledgement.docx"
URL = "http://127.0.0.1:9/leak"
NAMESPACES = ('xmlns:w="http://schemas.openxmlformats.org/wordprocessingml/2006/main" '
              'xmlns:r="http://schemas.openxmlformats.org/officeDocument/2006/relationships" '
              'xmlns:o="urn:schemas-microsoft-com:office:office" '
              'xmlns:v="urn:schemas-microsoft-com:vml"')


def patched(folder: Path, body: str = "", rels: str = "", *, part: str = "word/document.xml",
            name: str = "office.docx", replace: dict[str, bytes] | None = None) -> Path:
    """The built-in acknowledgement with XML added before the section end and to its rels."""
    with zipfile.ZipFile(BUILT_IN) as z:
        parts = {n: z.read(n) for n in z.namelist()}
    xml = parts[part].decode()
    if body:
        xml = (xml.replace("<w:sectPr", body + "<w:sectPr", 1) if "<w:sectPr" in xml
               else xml.replace("</w:ftr>", body + "</w:ftr>"))
    parts[part] = xml.encode()
    if rels:
        name_rels = "word/_rels/document.xml.rels"
        parts[name_rels] = parts[name_rels].replace(b"</Relationships>",
                                                    rels.encode() + b"</Relationships>")
    parts.update(replace or {})
    path = folder / name
    with zipfile.ZipFile(path, "w", zipfile.ZIP_DEFLATED) as out:
        for n, data in parts.items():
            out.writestr(n, data)
    return path


LINKED_IMAGE = (
    '<w:p><w:r><w:drawing><wp:inline xmlns:wp="http://schemas.openxmlformats.org/drawingml/2006/'
    'wordprocessingDrawing"><wp:extent cx="914400" cy="914400"/><wp:docPr id="99" name="p"/>'
    '<a:graphic xmlns:a="http://schemas.openxmlformats.org/drawingml/2006/main"><a:graphicData '
    'uri="http://schemas.openxmlformats.org/drawingml/2006/picture"><pic:pic xmlns:pic="http://'
    'schemas.openxmlformats.org/drawingml/2006/picture"><pic:nvPicPr><pic:cNvPr id="99" name="p"/>'
    '<pic:cNvPicPr/></pic:nvPicPr><pic:blipFill><a:blip xmlns:r="http://schemas.openxmlformats.org'
    '/officeDocument/2006/relationships" r:link="rIdLeak"/><a:stretch><a:fillRect/></a:stretch>'
    '</pic:blipFill><pic:spPr><a:xfrm><a:off x="0" y="0"/><a:ext cx="914400" cy="914400"/>'
    '</a:xfrm><a:prstGeom prst="rect"/></pic:spPr></pic:pic></a:graphicData></a:graphic>'
    '</wp:inline></w:drawing></w:r></w:p>')
IMAGE_REL = ('<Relationship Id="rIdLeak" Type="http://schemas.openxmlformats.org/officeDocument/'
             '2006/relationships/image" Target="{url}" TargetMode="External"/>')


def complex_field(instruction: str, text: str = "签名") -> str:
    return ('<w:p><w:r><w:t>落款处</w:t></w:r><w:r><w:fldChar w:fldCharType="begin"/></w:r>'
            f'<w:r><w:instrText xml:space="preserve">{instruction}</w:instrText></w:r>'
            '<w:r><w:fldChar w:fldCharType="separate"/></w:r>'
            f'<w:r><w:t>{text}</w:t></w:r><w:r><w:fldChar w:fldCharType="end"/></w:r></w:p>')
