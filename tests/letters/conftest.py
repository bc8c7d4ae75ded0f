"""Fixtures for the letters tests: sample data, rendered replies, a reader of .docx XML."""

from __future__ import annotations

import zipfile
from collections.abc import Callable
from datetime import date
from pathlib import Path
from typing import Any

import docx
import pytest
from lxml import etree

W = "http://schemas.openxmlformats.org/wordprocessingml/2006/main"
NS = {"w": W}


def w(name: str) -> str:
    """Clark name of a WordprocessingML tag or attribute: w('val') -> '{...}val'."""
    return f"{{{W}}}{name}"


@pytest.fixture
def context() -> dict[str, Any]:
    """A complete context for the acknowledgement, as the web layer will pass it."""
    return {
        "office_name": "清河县信访局",
        "doc_number": "清信受〔2026〕17号",
        "petitioner_name": "王秀英",
        "received_date": date(2026, 11, 10),
        "reg_no": "2026-000017",
        "summary": "反映清河镇枣树营村房屋拆迁补偿款未按协议足额发放的问题",
        "handling_unit": "清河县住房和城乡建设局",
        "issue_date": date(2026, 11, 24),
        "contact_phone": "0319-8123456",
        # §21 ¶2: where and with which code the petitioner follows the matter
        "query_code": "K7QM-3XZ9-PT2D", "query_url": "https://xf.example.gov.cn/query",
        # §34's 60 days (False) or the office's own period (a matter of another kind)
        "office_period": False,
    }


@pytest.fixture
def render(tmp_path: Path, context: dict[str, Any]) -> Callable[..., Path]:
    """Render a template into tmp_path, with the sample context updated by keyword arguments."""
    from letters import render_docx

    def run(template: str | Path = "acknowledgement", out: str = "reply.docx",
            **changes: Any) -> Path:
        return render_docx(template, {**context, **changes}, tmp_path / out)

    return run


class Package:
    """Read a .docx's XML parts and resolve paragraph and run formatting through its styles."""

    def __init__(self, path: Path) -> None:
        with zipfile.ZipFile(path) as z:
            self.parts = {name: z.read(name) for name in z.namelist()}
        self.document = self.xml("word/document.xml")
        self.styles = self.xml("word/styles.xml")

    def xml(self, name: str) -> etree._Element:
        """Parse one part of the package."""
        return etree.fromstring(self.parts[name])

    def footers(self) -> list[etree._Element]:
        """All footer parts."""
        return [self.xml(n) for n in sorted(self.parts) if n.startswith("word/footer")]

    def sect(self, tag: str) -> etree._Element:
        """A child of the body's section properties, e.g. 'pgMar'."""
        found = self.document.find(f"w:body/w:sectPr/w:{tag}", NS)
        assert found is not None, tag
        return found

    def paragraphs(self, style_id: str) -> list[etree._Element]:
        """Body paragraphs using a paragraph style."""
        return self.document.xpath(f"//w:body//w:p[w:pPr/w:pStyle/@w:val='{style_id}']",
                                   namespaces=NS)

    def paragraph_with(self, text: str) -> etree._Element:
        """The first body paragraph whose text contains text."""
        for p in self.document.iter(w("p")):
            if text in "".join(p.itertext()):
                return p
        raise AssertionError(f"no paragraph contains {text!r}")

    def _chain(self, style_id: str | None) -> list[etree._Element]:
        """A style and the styles it is based on, most specific first."""
        chain = []
        while style_id:
            style = self.styles.find(f"w:style[@w:styleId='{style_id}']", NS)
            assert style is not None, style_id
            chain.append(style)
            based = style.find("w:basedOn", NS)
            style_id = based.get(w("val")) if based is not None else None
        return chain

    def _sources(self, p: etree._Element, props: str) -> list[etree._Element]:
        """Where a paragraph's pPr or rPr values may come from, in order of precedence."""
        style = p.find("w:pPr/w:pStyle", NS)
        style_id = style.get(w("val")) if style is not None else "Normal"
        sources = []
        if props == "rPr":
            sources += p.xpath("w:r/w:rPr", namespaces=NS)[:1]
        else:
            sources += p.xpath("w:pPr", namespaces=NS)
        for s in self._chain(style_id):
            sources += s.xpath(f"w:{props}", namespaces=NS)
        sources += self.styles.xpath(f"w:docDefaults/*/w:{props}", namespaces=NS)
        return sources

    def effective(self, p: etree._Element, props: str, child: str, attr: str) -> str | None:
        """The value a paragraph (props='pPr') or its first run (props='rPr') ends up with."""
        for source in self._sources(p, props):
            element = source.find(f"w:{child}", NS)
            if element is not None and element.get(w(attr)) is not None:
                return element.get(w(attr))
        return None


@pytest.fixture
def package() -> Callable[[Path], Package]:
    """Open a .docx for XML assertions."""
    return Package


BUILT_IN = Path(__file__).parents[2] / "letters" / "templates" / "acknowledgement.docx"


@pytest.fixture
def edit_template(tmp_path: Path) -> Callable[..., Path]:
    """Copy the built-in template with one paragraph rewritten as runs, the way Word splits text.

    ``tweak`` receives the new runs (python-docx Run objects) to format or wrap them.
    """

    def run(old: str, pieces: list[str], tweak: Callable[[list[Any]], None] | None = None,
            name: str = "edited.docx") -> Path:
        doc = docx.Document(str(BUILT_IN))
        paragraph = next((p for p in doc.paragraphs if p.text == old), None)
        assert paragraph is not None, f"no paragraph {old!r}"
        for r in list(paragraph.runs):
            r._r.getparent().remove(r._r)
        runs = [paragraph.add_run(piece) for piece in pieces]
        if tweak:
            tweak(runs)
        path = tmp_path / name
        doc.save(str(path))
        return path

    return run
