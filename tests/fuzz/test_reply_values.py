"""Fuzzing a reply's field values: braces, Jinja syntax, XML specials, control characters, RTL
marks and long strings give a well-formed .docx that says exactly what was typed (less the
characters XML cannot hold) — a value is never run as template code."""

from __future__ import annotations

import datetime as dt
import tempfile
import zipfile
from functools import cache
from pathlib import Path
from xml.etree import ElementTree

import pytest
from hypothesis import given
from hypothesis import strategies as st

import letters
from letters._format import xml_safe
from tests.fuzz.runs import count, fuzz_settings

TEMPLATE = "acknowledgement"
HOSTILE = ["{{", "}}", "{%", "%}", "{#", "#}", "{_{", "}_}", "{{ 7*7 }}", "{% if 1 %}x{% endif %}",
           "{{ ''.__class__.__mro__ }}", "{{ cycler.__init__.__globals__ }}", "{%p if 1 %}",
           "{%tr for x in y %}", "{{r x }}", "<", ">", "&", "&amp;", "&#x26;", "]]>", "<w:p>",
           "</w:t>", "\"", "'", "\x00", "\x07", "\x1b", "\r\n", "\r", "\n", "\t", "\u202e",
           "\u200f", "\u2066", "\ufdd0", "\ufffe", "\ud83d", "😀", "𠀀", "韩秋菊", "石桥镇",
           "\\", "\\n", "$", "{0}", "%s", "</script>"]
value = st.one_of(
    st.lists(st.one_of(st.text(max_size=6), st.sampled_from(HOSTILE)), max_size=30).map("".join),
    st.sampled_from(HOSTILE).map(lambda v: v * 400),  # long: thousands of characters
)


@cache
def fields() -> tuple[str, ...]:
    return tuple(sorted(letters.required_fields(TEMPLATE)))


def document_text(path: Path) -> str:
    """The text of the document body as Word shows it (tabs and line breaks are elements),
    parsed as XML, so it must be well-formed."""
    with zipfile.ZipFile(path) as docx:
        root = ElementTree.fromstring(docx.read("word/document.xml"))
    parts = []
    for element in root.iter():
        kind = element.tag.rsplit("}", 1)[-1]
        if kind == "t":
            parts.append(element.text or "")
        elif kind in ("tab", "br"):
            parts.append("\t" if kind == "tab" else "\n")
    return "".join(parts)


def render(values: dict[str, str]) -> str:
    context: dict[str, object] = {name: f"«{name}»" for name in fields()}
    for name in fields():
        if name == "date" or name.endswith("_date"):
            context[name] = dt.date(2026, 1, 5)
    context.update(values)
    with tempfile.TemporaryDirectory() as folder:
        out = letters.render_docx(TEMPLATE, context, Path(folder) / "reply.docx")
        return document_text(out)


def test_the_template_has_text_fields() -> None:
    assert [n for n in fields() if not n.endswith("date")], fields()


@pytest.mark.soak
@fuzz_settings(quick=120, soak=5_000)
@given(st.data())
def test_hostile_values_come_out_as_typed(data: st.DataObject) -> None:
    count("letters: reply values")
    # office_period only chooses a sentence (§34's or the office's period): it is not printed
    text_fields = [n for n in fields()
                   if not (n == "date" or n.endswith("_date") or n == "office_period")]
    name = data.draw(st.sampled_from(text_fields))
    typed = data.draw(value.filter(lambda v: "⟦" not in v and "⟧" not in v))
    # word joiners keep numbers on one line (a-1 prints a\u2060-\u20601): invisible, not text
    shown = render({name: f"⟦{typed}⟧"}).replace("\u2060", "")
    expected = xml_safe(typed).replace("\u2060", "")
    start = shown.find("⟦")  # the first place the template prints the field
    end = shown.find("⟧", start + 1)
    assert start != -1 and end != -1, "the value is not in the document"
    assert shown[start + 1:end] == expected
