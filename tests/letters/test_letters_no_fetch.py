"""Issue 19, item 5: LibreOffice fetches nothing a document links to while converting it.

The documents here are made past the template check (which refuses them), as a reply could be if
the check missed something: the converter is the second wall. A local HTTP server on 127.0.0.1
counts the requests; plain LibreOffice, the control, does fetch the linked image.
"""

from __future__ import annotations

import http.server
import shutil
import subprocess
import threading
from collections.abc import Iterator
from pathlib import Path

import pytest

import letters
from letters._pdf import _environment, soffice
from tests.letters.docx_links import IMAGE_REL, LINKED_IMAGE, complex_field, patched

pytestmark = [
    pytest.mark.slow,
    pytest.mark.skipif(shutil.which("soffice") is None or letters._fonts.missing_fonts() != [],
                       reason="needs LibreOffice, texlive-lang-chinese and fonts-noto-cjk"),
]


class _Counter(http.server.BaseHTTPRequestHandler):
    seen: list[str] = []

    def do_GET(self) -> None:  # noqa: N802 (the name http.server calls)
        self.seen.append(self.path)
        self.send_response(404)
        self.end_headers()

    do_HEAD = do_GET

    def log_message(self, *args: object) -> None:
        pass


@pytest.fixture
def server() -> Iterator[tuple[str, list[str]]]:
    """An HTTP server on 127.0.0.1 and the paths requested from it."""
    seen: list[str] = []
    handler = type("Handler", (_Counter,), {"seen": seen})
    httpd = http.server.ThreadingHTTPServer(("127.0.0.1", 0), handler)
    thread = threading.Thread(target=httpd.serve_forever, daemon=True)
    thread.start()
    try:
        yield f"http://127.0.0.1:{httpd.server_address[1]}", seen
    finally:
        httpd.shutdown()
        httpd.server_close()


def linking(folder: Path, base: str) -> Path:
    """A reply-like .docx with a linked image, an INCLUDEPICTURE and an INCLUDETEXT field."""
    body = (LINKED_IMAGE + complex_field(f' INCLUDEPICTURE "{base}/field.png" \\d ')
            + f'<w:p><w:fldSimple w:instr=" INCLUDETEXT &quot;{base}/text.docx&quot; ">'
            "<w:r><w:t>x</w:t></w:r></w:fldSimple></w:p>")
    return patched(folder, body, IMAGE_REL.format(url=f"{base}/image.png"), name="links.docx")


def test_plain_libreoffice_fetches_the_linked_image(tmp_path: Path,
                                                    server: tuple[str, list[str]]) -> None:
    """The control: without our settings the server is asked, so the tests below can fail."""
    base, seen = server
    document = linking(tmp_path, base)
    subprocess.run([soffice(), f"-env:UserInstallation={(tmp_path / 'profile').as_uri()}",
                    "--headless", "--norestore", "--convert-to", "pdf", "--outdir",
                    str(tmp_path), str(document)], capture_output=True, timeout=180, check=True,
                   env=_environment(tmp_path))
    assert "/image.png" in seen


@pytest.mark.parametrize("kind", ["warm", "cold"])
def test_the_converters_fetch_nothing(tmp_path: Path, server: tuple[str, list[str]],
                                      kind: str) -> None:
    base, seen = server
    document = linking(tmp_path, base)
    converter: letters.Converter = (letters.WarmConverter(tmp_path / "warm") if kind == "warm"
                                    else letters.ColdConverter(tmp_path / "cold"))
    try:
        pdf = converter.convert(document, tmp_path / "links.pdf")
    finally:
        converter.close()
    assert pdf.read_bytes().startswith(b"%PDF-")
    assert seen == []


def test_the_warm_converter_fetches_nothing_with_an_old_profile(
        tmp_path: Path, server: tuple[str, list[str]]) -> None:
    """A profile LibreOffice already wrote (a worker's) gets the settings added, not lost."""
    base, seen = server
    profile = tmp_path / "warm" / "profile" / "user"
    profile.mkdir(parents=True)
    (profile / "registrymodifications.xcu").write_text(
        '<?xml version="1.0" encoding="UTF-8"?>\n<oor:items xmlns:oor="http://openoffice.org/2001/'
        'registry"><item oor:path="/org.openoffice.Office.Common/Security/Scripting"><prop '
        'oor:name="BlockUntrustedRefererLinks" oor:op="fuse"><value>false</value></prop></item>'
        "</oor:items>\n", encoding="utf-8")
    with letters.WarmConverter(tmp_path / "warm") as converter:
        converter.convert(linking(tmp_path, base), tmp_path / "links.pdf")
    assert seen == []
