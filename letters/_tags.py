"""Find the Jinja2 tags in a template's paragraphs, mend harmless splits, name broken ones.

Word stores a paragraph as runs, and editing breaks a tag such as ``{{ petitioner_name }}`` into
several runs: text typed at different times, the spell checker's markers around
``petitioner_name``. When the pieces are formatted alike, nothing is lost by joining them, so they
are joined. When they are not (part of the tag made bold, a tracked change, a hyperlink, a tab
inside the tag), no join is right, and the template is refused with the tag and its paragraph
named. Unbalanced delimiters and full-width braces typed with a Chinese input method are refused
too: docxtpl and Jinja2 would otherwise fail with a message about XML the office never sees.
"""

from __future__ import annotations

import re
from dataclasses import dataclass

from docx.oxml.ns import qn
from lxml import etree

from letters._errors import TemplateError

_PAIRS = {"{{": "}}", "{%": "%}", "{#": "#}"}
_DELIMITER = re.compile(r"\{\{|\{%|\{#|\}\}|%\}|#\}")
_FULL_WIDTH = re.compile(r"[{｛][{｛%#]|[}｝%#][}｝]")
_P, _R, _T, _RPR = qn("w:p"), qn("w:r"), qn("w:t"), qn("w:rPr")
# Markers Word puts between runs that carry no text and no formatting.
_MARKERS = {qn(f"w:{tag}") for tag in ("proofErr", "bookmarkStart", "bookmarkEnd", "permStart",
                                        "permEnd", "lastRenderedPageBreak")}
# Run properties that change nothing visible (spell-check language, proofing switches).
_INVISIBLE = {qn(f"w:{tag}") for tag in ("lang", "noProof", "rPrChange")}
_SPACE = "{http://www.w3.org/XML/1998/namespace}space"


@dataclass
class _Piece:
    """One w:t element and where its text sits in the paragraph's text."""

    t: etree._Element
    start: int
    end: int


def repair_tags(root: etree._Element, where: str) -> None:
    """Check every paragraph under root; join tags split harmlessly, raise on broken ones."""
    for number, p in enumerate(root.iter(_P), start=1):
        while _join_first_split(p, f"{where}, paragraph {number}"):
            pass


def _pieces(p: etree._Element) -> tuple[list[_Piece], str]:
    """Return the paragraph's own w:t pieces (not those of nested text boxes) and its text."""
    pieces, parts, pos = [], [], 0
    for t in p.iter(_T):
        if next(t.iterancestors(_P)) is not p:
            continue
        text = t.text or ""
        pieces.append(_Piece(t, pos, pos + len(text)))
        parts.append(text)
        pos += len(text)
    return pieces, "".join(parts)


def _snippet(text: str, at: int, width: int = 40) -> str:
    """Quote the paragraph around a position, short enough for an error message."""
    start = max(at - width // 2, 0)
    piece = text[start:start + width]
    return ("…" if start else "") + piece + ("…" if start + width < len(text) else "")


def _tags(text: str, where: str) -> list[tuple[int, int]]:
    """Return the (start, end) of each tag in a paragraph's text, refusing unbalanced ones."""
    bad = next((m for m in _FULL_WIDTH.finditer(text) if re.search("[｛｝]", m.group())), None)
    if bad:
        raise TemplateError(
            f"{where}: full-width brace in {bad.group()!r} near “{_snippet(text, bad.start())}”; "
            "type the braces of a tag in half-width (English) input mode")
    found, pos = [], 0
    while match := _DELIMITER.search(text, pos):
        delimiter = match.group()
        if delimiter not in _PAIRS:
            raise TemplateError(
                f"{where}: unbalanced braces: {delimiter!r} closes nothing "
                f"near “{_snippet(text, match.start())}”")
        end = text.find(_PAIRS[delimiter], match.end())
        if end < 0:
            raise TemplateError(
                f"{where}: unbalanced braces: {delimiter!r} is never closed by "
                f"{_PAIRS[delimiter]!r} in “{_snippet(text, match.start(), 60)}”")
        found.append((match.start(), end + 2))
        pos = end + 2
    return found


def _join_first_split(p: etree._Element, where: str) -> bool:
    """Join the first tag split over several w:t elements; False when none is split."""
    pieces, text = _pieces(p)
    for start, end in _tags(text, where):
        covering = [x for x in pieces if x.end > start and x.start < end and x.end > x.start]
        if len(covering) < 2:
            continue
        reason = _why_not_joinable(p, covering)
        if reason:
            raise TemplateError(
                f"{where}: the tag {text[start:end]} is split across {len(covering)} runs that "
                f"{reason}. In Word, select the whole tag and clear its formatting "
                "(or delete it and type it again in one go)")
        _join(covering, start, end, text)
        return True
    return False


def _why_not_joinable(p: etree._Element, covering: list[_Piece]) -> str | None:
    """Say why joining these pieces would lose something, or None when it is safe."""
    runs = [x.t.getparent() for x in covering]
    if any(r is None or r.tag != _R for r in runs):
        return "are not plain text runs"
    if len({id(r.getparent()) for r in runs if r is not None}) > 1:
        return "sit in different places (a tracked change, hyperlink or field around part of it)"
    first, last = covering[0].t, covering[-1].t
    inside = False
    for element in p.iter():
        if element is first:
            inside = True
        elif element is last:
            break
        elif inside and not _harmless(element):
            return f"have {etree.QName(element).localname!r} content between them"
    formats = {_format_key(r) for r in runs}
    if len(formats) > 1:
        return "are formatted differently (bold, font, size or colour on part of the tag)"
    return None


def _harmless(element: etree._Element) -> bool:
    """True for what may sit inside a tag's span: runs, their text and formatting, markers."""
    if element.tag in (_R, _T, _RPR) or element.tag in _MARKERS:
        return True
    return any(a.tag == _RPR for a in element.iterancestors())


def _format_key(run: etree._Element | None) -> bytes:
    """Serialise a run's visible formatting, ignoring language and proofing marks."""
    rpr = run.find(_RPR) if run is not None else None
    if rpr is None:
        return b""
    rpr = etree.fromstring(etree.tostring(rpr))
    for child in list(rpr):
        if child.tag in _INVISIBLE:
            rpr.remove(child)
    fonts = rpr.find(qn("w:rFonts"))
    if fonts is not None:
        fonts.attrib.pop(qn("w:hint"), None)
        if not fonts.attrib:
            rpr.remove(fonts)
    return etree.tostring(rpr, method="c14n") if len(rpr) else b""


def _join(covering: list[_Piece], start: int, end: int, text: str) -> None:
    """Move the whole tag into the first piece and drop runs left with nothing in them."""
    first, last = covering[0], covering[-1]
    first_text, last_text = first.t.text or "", last.t.text or ""
    first.t.text = first_text[: start - first.start] + text[start:end]
    for piece in covering[1:-1]:
        piece.t.text = ""
    last.t.text = last_text[end - last.start:]
    for piece in covering:
        piece.t.set(_SPACE, "preserve")
    for piece in covering[1:]:
        run = piece.t.getparent()
        if run is None or run is first.t.getparent():
            continue
        if all(c.tag in (_RPR, *_MARKERS) or (c.tag == _T and not c.text) for c in run):
            parent = run.getparent()
            if parent is not None:
                parent.remove(run)
