"""Render a checked template into a reply .docx with docxtpl, inside the Jinja2 sandbox."""

from __future__ import annotations

import io
import os
import tempfile
from collections.abc import Mapping
from datetime import UTC, date, datetime
from pathlib import Path
from typing import Any

from docxtpl import DocxTemplate
from jinja2 import TemplateError as JinjaTemplateError
from jinja2 import UndefinedError
from jinja2.sandbox import SecurityError
from lxml import etree

from letters._errors import TemplateError
from letters._format import numbers_kept_whole, xml_safe
from letters._inspection import check_rendered
from letters._sandbox import RENDER_SECONDS, Budget, make_environment
from letters._templates import PreparedTemplate, prepare, resolve

# After rendering, docxtpl turns "{_{", "}_}", "{_%" and "%_}" into "{{", "}}", "{%" and "%}" (its
# way of printing literal tags). Values must come out as given, so a noncharacter is slipped into
# these sequences in values and removed once docxtpl is done.
_GUARD = "\ufdd0"
_DOCXTPL_ESCAPES = ("{_{", "}_}", "{_%", "%_}")
_PROPERTIES = ("author", "comments", "identifier", "language", "subject", "title")
# The answers of §32 of the 《信访工作条例》, as the handling opinion prints them.
DECISIONS = ("支持", "解释说明", "不予支持")
MAX_EXTENSION_DAYS = 30  # §34: an extension of at most 30 days


class _CheckedDocxTemplate(DocxTemplate):
    """docxtpl, refusing broken XML instead of repairing it and keeping properties plain text."""

    label = ""

    def fix_tables(self, xml: str) -> Any:
        """Parse strictly first: docxtpl's recovering parser would silently drop broken parts."""
        etree.fromstring(xml)
        return super().fix_tables(xml)

    def render_xml_part(self, src_xml: str, part: Any, context: dict[str, Any],
                        jinja_env: Any = None) -> str:
        """Render one part, then take the guard marks out of the values."""
        rendered: str = super().render_xml_part(src_xml, part, context, jinja_env).replace(
            _GUARD, "")
        check_rendered(etree.fromstring(rendered.encode("utf-8")), str(part.partname),
                       f"模板 {self.label}")
        return rendered

    def render_properties(self, context: dict[str, Any], jinja_env: Any = None) -> None:
        """Render title, subject etc. unescaped: they are plain text, not XML."""
        super().render_properties(context, make_environment(autoescape=False))
        properties = self.docx.core_properties
        for name in _PROPERTIES:
            setattr(properties, name, (getattr(properties, name) or "").replace(_GUARD, ""))


def render_docx(template: str | Path, context: Mapping[str, Any], out: Path, *,
                extra_dir: Path | None = None, seconds: float = RENDER_SECONDS) -> Path:
    """Render a template (a name, or a path to a .docx) with context into out, atomically.

    The rendering is bounded: past ``seconds``, or past the operation and size budget of
    ``letters._sandbox``, it stops with a TemplateError.
    """
    out = Path(out)
    prepared = prepare(resolve(template, extra_dir))
    values = _checked_context(prepared, context)
    label = prepared.label
    document = _CheckedDocxTemplate(io.BytesIO(prepared.data))
    document.label = label.removeprefix("template ").strip("'")
    try:
        with Budget(seconds):
            document.render(values, jinja_env=make_environment())
    except TemplateError:
        raise
    except RecursionError as e:
        raise TemplateError(f"{label}: 模板中的宏或循环递归过深，已停止") from e
    except SecurityError as e:
        raise TemplateError(f"{label}: refused by the sandbox: {e}") from e
    except UndefinedError as e:
        raise TemplateError(f"{label}: undefined value: {e}") from e
    except JinjaTemplateError as e:
        raise TemplateError(f"{label}: {e}") from e
    except etree.XMLSyntaxError as e:
        raise TemplateError(
            f"{label}: rendering produced broken document XML ({e}); a {{% %}} block that "
            "opens in one paragraph and closes in another needs the {%p ... %} form") from e
    except (ArithmeticError, LookupError, TypeError, ValueError) as e:
        raise TemplateError(f"{label}: rendering failed: {type(e).__name__}: {e}") from e
    properties = document.docx.core_properties
    properties.created = properties.modified = datetime.now(UTC).replace(microsecond=0)
    buffer = io.BytesIO()
    document.save(buffer)
    _write_atomically(out, buffer.getvalue())
    return out


def _checked_context(prepared: PreparedTemplate, context: Mapping[str, Any]) -> dict[str, Any]:
    """Refuse missing fields (all named at once) and wrong dates, days and decisions; clean text."""
    missing = sorted(name for name in prepared.fields if context.get(name) is None)
    if missing:
        raise TemplateError(
            f"{prepared.label}: missing fields: {', '.join(missing)}")
    values = {str(key): _plain(value) for key, value in context.items()}
    for name in sorted(prepared.fields):
        value = context[name]
        if (name == "date" or name.endswith("_date")) and not isinstance(value, date):
            raise TemplateError(
                f"{prepared.label}: field {name!r} must be a datetime.date, "
                f"got {type(value).__name__} {value!r}")
        if name.endswith("_days"):
            values[name] = _days(prepared.label, name, value)
        if name == "decision" and value not in DECISIONS:
            raise TemplateError(f"{prepared.label}：处理结论（decision）只能是"
                                f"{'、'.join(DECISIONS)}之一（《信访工作条例》第三十二条），"
                                f"收到的是“{value}”")
    return values


def sample_context(fields: frozenset[str] | set[str]) -> dict[str, Any]:
    """Values of the right kind for every field, to prove a template renders (at upload)."""
    def sample(name: str) -> Any:
        if name == "date" or name.endswith("_date"):
            return date(2026, 1, 2)
        if name.endswith("_days"):
            return 15
        return DECISIONS[0] if name == "decision" else "示例"

    return {name: sample(name) for name in fields}


def _days(label: str, name: str, value: Any) -> int:
    """A number of days: a whole number (the form sends text); an extension at most 30."""
    text = str(value).strip()
    if isinstance(value, bool) or not (isinstance(value, int) or text.isdigit()):
        raise TemplateError(f"{label}：字段 {name} 应为天数（整数），收到的是“{value}”")
    days = int(text)
    if name == "extension_days" and not 1 <= days <= MAX_EXTENSION_DAYS:
        raise TemplateError(f"{label}：延长办理期限为 {days} 日，应为 1 至 {MAX_EXTENSION_DAYS} 日"
                            "（《信访工作条例》第三十四条：延长期限不得超过30日）")
    return days


def _plain(value: Any) -> Any:
    """Turn text (Markup included, so it is escaped too) into XML-safe, guarded str, recursively.

    Numbers are kept whole: no line breaks inside 0319-8123456 or 2026-000017.
    """
    if isinstance(value, str):
        text = numbers_kept_whole(xml_safe(value))
        for sequence in _DOCXTPL_ESCAPES:
            text = text.replace(sequence, sequence[0] + _GUARD + sequence[1:])
        return text
    if isinstance(value, Mapping):
        return {key: _plain(item) for key, item in value.items()}
    if isinstance(value, list | tuple):
        return [_plain(item) for item in value]
    return value


def _write_atomically(out: Path, data: bytes) -> None:
    """Write through a temporary file in the same folder, so readers never see half a file.

    The file is readable by its owner only (replies carry personal data).
    """
    with tempfile.NamedTemporaryFile(dir=out.parent, prefix=f".{out.name}.", suffix=".tmp",
                                     delete=False) as tmp:
        temporary = Path(tmp.name)
        try:
            tmp.write(data)
            tmp.flush()
            os.fsync(tmp.fileno())
        except BaseException:
            tmp.close()
            temporary.unlink(missing_ok=True)
            raise
    try:
        temporary.replace(out)
    except BaseException:
        temporary.unlink(missing_ok=True)
        raise
