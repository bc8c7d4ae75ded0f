"""The template registry: find a template by name, check it, and learn which fields it needs.

A template is a .docx whose text carries Jinja2 placeholders. The built-in ones live in
``letters/templates/`` (built by ``python -m letters._build_templates``); an office folder given as
``extra_dir`` adds more, and a file there named like a built-in one replaces it. Adding a document
type is therefore adding a .docx file, not code.

Checking a template (``prepare``) mends tags Word split harmlessly, refuses broken ones by name,
compiles every part in the sandbox so that syntax errors surface before any reply is rendered,
and collects the placeholders it uses. Before any of that, ``letters._inspection`` refuses a
package too big to handle or pointing outside itself. The result is cached per file version.
"""

from __future__ import annotations

import functools
import io
import re
import zipfile
from dataclasses import dataclass
from pathlib import Path

from docxtpl import DocxTemplate
from jinja2 import TemplateSyntaxError, meta
from jinja2.sandbox import SandboxedEnvironment
from lxml import etree

from letters._docx import open_docx, text_parts
from letters._errors import DocumentError, TemplateError
from letters._inspection import check_package
from letters._sandbox import make_environment
from letters._tags import repair_tags

TEMPLATES_DIR = Path(__file__).parent / "templates"
# Names are what users type (`huiyin reply --template NAME`): letters, digits, _ and -, no paths.
# Word's lock files (~$name.docx) and hidden files do not match and are never listed.
_NAME = re.compile(r"[^\W_][\w-]*")
# The core properties docxtpl renders as templates too.
_PROPERTIES = ("author", "comments", "identifier", "language", "subject", "title")


@dataclass(frozen=True)
class PreparedTemplate:
    """A checked template: how messages name it, its mended bytes, the fields it needs."""

    label: str
    data: bytes
    fields: frozenset[str]


def _folder(folder: Path) -> dict[str, Path]:
    """Map template names to files for the .docx files directly in a folder."""
    if not folder.is_dir():
        return {}
    return {p.stem: p for p in sorted(folder.glob("*.docx"))
            if _NAME.fullmatch(p.stem) and p.is_file()}


def _all(extra_dir: Path | None) -> dict[str, Path]:
    """Built-in templates overlaid with the office's own."""
    found = _folder(TEMPLATES_DIR)
    if extra_dir is not None:
        found.update(_folder(extra_dir))
    return found


def template_names(extra_dir: Path | None = None) -> list[str]:
    """List the template names a reply can be rendered from, sorted."""
    return sorted(_all(extra_dir))


def resolve(template: str | Path, extra_dir: Path | None = None) -> Path:
    """Turn a template name (or a path to a .docx) into the file to render."""
    if isinstance(template, Path):
        if not template.is_file():
            raise TemplateError(f"template file {template} does not exist")
        return template
    if not _NAME.fullmatch(template):
        raise TemplateError(f"invalid template name {template!r}: use letters, digits, _ and -")
    found = _all(extra_dir)
    if template not in found:
        known = ", ".join(sorted(found)) or "none"
        raise TemplateError(f"unknown template {template!r}; known templates: {known}")
    return found[template]


def prepare(path: Path) -> PreparedTemplate:
    """Check a template file and return it ready to render (cached until the file changes)."""
    stat = path.stat()
    return _prepare(path.resolve(), stat.st_mtime_ns, stat.st_size)


@functools.lru_cache(maxsize=64)
def _prepare(path: Path, mtime_ns: int, size: int) -> PreparedTemplate:
    """Do the work of prepare(); the stat values are only part of the cache key."""
    label = f"template {path.name!r}"
    if path.is_file() and zipfile.is_zipfile(path):  # what is not a zip is named by open_docx
        check_package(path, f"模板 {path.name}")
    try:
        doc = open_docx(path)
    except DocumentError as e:
        raise TemplateError(f"{label}: {e}") from e
    env = make_environment()
    patcher = DocxTemplate(path)  # only its patch_xml() is used: the XML docxtpl will render
    fields: set[str] = set()
    for part in text_parts(doc):
        where = f"{label}, {part.label}"
        repair_tags(part.root, where)
        part.commit()
        source = patcher.patch_xml(etree.tostring(part.root, encoding="unicode"))
        fields |= _fields(env, re.sub(r"<w:p([ >])", r"\n<w:p\1", source), where)
    for name in _PROPERTIES:
        fields |= _fields(env, getattr(doc.core_properties, name) or "",
                          f"{label}, document property {name!r}")
    data = io.BytesIO()
    doc.save(data)
    return PreparedTemplate(label, data.getvalue(), frozenset(fields))


def _fields(env: SandboxedEnvironment, source: str, where: str) -> set[str]:
    """Compile one part in the sandbox and return the names it reads from the context."""
    try:
        env.from_string(source)
        found = meta.find_undeclared_variables(env.parse(source))
    except TemplateSyntaxError as e:
        lines = source.splitlines()
        line = lines[e.lineno - 1] if 0 < e.lineno <= len(lines) else ""
        text = re.sub(r"<[^>]+>", "", line).strip()
        # At the end of a part Jinja2 names the unclosed block, and the last line is no help.
        at_end = e.message is not None and e.message.startswith("Unexpected end of template")
        near = f" near “{text[:80]}”" if text and not at_end else ""
        raise TemplateError(f"{where}: template syntax error{near}: {e.message}") from e
    return {name for name in found if name not in env.globals}


def required_fields(template: str | Path, extra_dir: Path | None = None) -> frozenset[str]:
    """Return the placeholders a template uses, i.e. the context keys a render needs."""
    return prepare(resolve(template, extra_dir)).fields


def template_version(template: str | Path, extra_dir: Path | None = None) -> str:
    """Name the exact template file a reply was rendered from: its source and SHA-256 prefix."""
    import hashlib

    path = resolve(template, extra_dir)
    source = "builtin" if path.parent.resolve() == TEMPLATES_DIR.resolve() else "office"
    return f"{source}:{hashlib.sha256(path.read_bytes()).hexdigest()[:16]}"


# What each template is called in the office, for listings and document numbers.
TITLES = {
    "acknowledgement": "受理告知书", "non_acceptance": "不予受理告知书",
    "transfer_notice": "转送告知单", "assignment": "交办单", "handling_opinion": "处理意见书",
    "extension_notice": "延期告知书", "review_opinion": "复查意见书",
    "re_review_opinion": "复核意见书", "service_receipt": "送达回证",
}


def template_title(name: str) -> str:
    """What the office calls a template's document (处理意见书); the name itself when unknown."""
    return TITLES.get(name, name)
