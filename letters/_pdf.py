"""From .docx to PDF/A-2b with LibreOffice, the only engine that keeps Word's layout.

Two converters behind one interface (``Converter``), so that a test or the benchmark picks one:

* ``WarmConverter`` keeps one LibreOffice running behind ``unoserver`` (~0.55 s a document). Its
  server needs Debian's ``python3-uno``, so it runs under the system Python; we talk to it over
  XML-RPC with a timeout, and a conversion that hangs or fails restarts the server once.
* ``ColdConverter`` starts ``soffice --convert-to`` per document (~2.4 s): no server to keep.

Each converter has its own LibreOffice profile: two soffice processes sharing one do not run in
parallel. Fonts come from the fontconfig file of ``letters._fonts``.

LibreOffice fetches what a document links to (a linked image is read over HTTP while converting).
Templates that link outside are refused (``letters._inspection``), and the converter itself
reaches nothing: its profile blocks links from untrusted documents and sends HTTP, HTTPS and FTP
to a proxy on a closed port, and the per-document LibreOffice runs in a network namespace of its
own (``unshare -rn``, no root needed) where the machine allows it.
"""

from __future__ import annotations

import functools
import http.client
import os
import shutil
import signal
import socket
import subprocess
import tempfile
import time
import xmlrpc.client
from pathlib import Path
from typing import Protocol

from lxml import etree

from letters._errors import ConversionError
from letters._fonts import fontconfig_file, missing_fonts

PDF_FILTER = "writer_pdf_Export"
# SelectPdfVersion 2 = PDF/A-2b; fonts are embedded (as PDF/A requires).
PDF_OPTIONS = ("SelectPdfVersion=2", "UseTaggedPDF=false")
SYSTEM_PYTHON = "/usr/bin/python3"


# LibreOffice settings (path, name, value) that keep a conversion from fetching anything: links
# from documents outside trusted locations (all of ours) are blocked, links are never updated,
# and HTTP, HTTPS and FTP go to a "proxy" on the discard port, where nothing listens.
NO_FETCH = (
    ("/org.openoffice.Office.Common/Security/Scripting", "BlockUntrustedRefererLinks", "true"),
    ("/org.openoffice.Office.Writer/Content/Update", "Link", "0"),
    ("/org.openoffice.Inet/Settings", "ooInetProxyType", "2"),
    *(("/org.openoffice.Inet/Settings", f"ooInet{kind}Proxy{what}", value)
      for kind in ("HTTP", "HTTPS", "FTP") for what, value in (("Name", "127.0.0.1"),
                                                                 ("Port", "9"))),
    ("/org.openoffice.Inet/Settings", "ooInetNoProxy", ""),
)
_OOR = "http://openoffice.org/2001/registry"


def forbid_fetching(profile: Path) -> Path:
    """Put the NO_FETCH settings into a LibreOffice profile (kept or created); return the file."""
    path = profile / "user" / "registrymodifications.xcu"
    path.parent.mkdir(parents=True, exist_ok=True)
    root = None
    if path.is_file():
        try:
            root = etree.parse(str(path)).getroot()
        except etree.XMLSyntaxError:
            root = None
    if root is None:
        root = etree.Element(f"{{{_OOR}}}items", nsmap={"oor": _OOR})
    ours = {(where, name) for where, name, _ in NO_FETCH}
    for item in list(root):
        prop = item.find("prop")
        if prop is not None and (item.get(f"{{{_OOR}}}path"), prop.get(f"{{{_OOR}}}name")) in ours:
            root.remove(item)
    for where, name, value in NO_FETCH:
        item = etree.SubElement(root, "item", {f"{{{_OOR}}}path": where})
        prop = etree.SubElement(item, "prop", {f"{{{_OOR}}}name": name, f"{{{_OOR}}}op": "fuse"})
        etree.SubElement(prop, "value").text = value
    path.write_bytes(etree.tostring(root, xml_declaration=True, encoding="UTF-8"))
    return path


@functools.lru_cache(maxsize=1)
def network_namespace() -> list[str]:
    """The command prefix that runs a program without network, or [] where that is not allowed."""
    unshare = shutil.which("unshare")
    if unshare is None:
        return []
    try:
        done = subprocess.run([unshare, "-rn", "true"], capture_output=True, timeout=10,
                              check=False)
    except (OSError, subprocess.TimeoutExpired):
        return []
    return [unshare, "-rn"] if done.returncode == 0 else []


class Converter(Protocol):
    """Turns one .docx into one PDF; close() releases whatever it keeps running."""

    def convert(self, docx: Path, pdf: Path) -> Path: ...

    def close(self) -> None: ...


def soffice() -> str:
    """The LibreOffice executable, or a clear refusal naming the Debian package."""
    found = shutil.which("soffice") or shutil.which("libreoffice")
    if found is None:
        raise ConversionError("LibreOffice is not installed (Debian: libreoffice-writer-nogui)")
    return found


def _environment(work: Path) -> dict[str, str]:
    """The environment LibreOffice runs in: our fontconfig file, no stray Python paths."""
    missing = missing_fonts()
    if missing:
        raise ConversionError("fonts missing, the PDF would not follow GB/T 9704: install "
                              + ", ".join(missing))
    env = {k: v for k, v in os.environ.items() if not k.startswith(("PYTHON", "VIRTUAL_ENV"))}
    env["FONTCONFIG_FILE"] = str(fontconfig_file(work / "fonts"))
    env["HOME"] = str(work)
    return env


class ColdConverter:
    """LibreOffice started for each document (the slow reference, and a fallback)."""

    def __init__(self, work_dir: Path | None = None, *, timeout: float = 120.0) -> None:
        self._tmp = None if work_dir else tempfile.TemporaryDirectory(prefix="huiyin-soffice-")
        self.work = Path(work_dir or self._tmp.name).resolve()  # type: ignore[union-attr]
        self.work.mkdir(parents=True, exist_ok=True)
        self.timeout = timeout

    def convert(self, docx: Path, pdf: Path) -> Path:
        """Convert one file; the PDF is written next to a temporary name, then moved."""
        out_dir = Path(tempfile.mkdtemp(prefix="out-", dir=self.work))
        options = ",".join(f'"{k}":{{"type":"long","value":"{v}"}}' if v.isdigit() else
                           f'"{k}":{{"type":"boolean","value":"{v}"}}'
                           for k, v in (o.split("=") for o in PDF_OPTIONS))
        forbid_fetching(self.work / "profile")
        command = [*network_namespace(), soffice(),
                   f"-env:UserInstallation={(self.work / 'profile').as_uri()}",
                   "--headless", "--norestore", "--convert-to",
                   f"pdf:{PDF_FILTER}:{{{options}}}", "--outdir", str(out_dir), str(docx)]
        try:
            result = subprocess.run(command, capture_output=True, text=True, check=False,
                                    timeout=self.timeout, env=_environment(self.work))
        except subprocess.TimeoutExpired as e:
            raise ConversionError(f"{docx.name}: LibreOffice took over {self.timeout:.0f} s") from e
        produced = out_dir / f"{docx.stem}.pdf"
        if result.returncode != 0 or not produced.is_file():
            raise ConversionError(f"{docx.name}: LibreOffice failed: {result.stderr.strip()}")
        produced.replace(pdf)
        out_dir.rmdir()
        return pdf

    def close(self) -> None:
        if self._tmp is not None:
            self._tmp.cleanup()


class _TimeoutTransport(xmlrpc.client.Transport):
    """XML-RPC over HTTP with a socket timeout, so that a stuck conversion cannot hang us."""

    def __init__(self, timeout: float) -> None:
        super().__init__()
        self.timeout = timeout

    def make_connection(self, host: tuple[str, dict[str, str]] | str
                        ) -> http.client.HTTPConnection:
        connection = super().make_connection(host)
        connection.timeout = self.timeout
        return connection


def _free_port() -> int:
    with socket.socket() as s:
        s.bind(("127.0.0.1", 0))
        return int(s.getsockname()[1])


# The server runs in its own process group so that a hang can be killed whole; this watchdog
# takes the group (unoserver and LibreOffice) down when our process dies, even by SIGKILL.
_WATCH_PARENT = (
    "import os, signal, threading, time\n"
    "def _watch(parent=os.getppid()):\n"
    "    while os.getppid() == parent:\n"
    "        time.sleep(0.5)\n"
    "    os.killpg(0, signal.SIGKILL)\n"
    "threading.Thread(target=_watch, daemon=True).start()\n"
)


class WarmConverter:
    """One LibreOffice kept running behind unoserver, with its own profile; restarts on a hang."""

    def __init__(self, work_dir: Path | None = None, *, timeout: float = 60.0,
                 start_timeout: float = 90.0, niceness: int = 0) -> None:
        self._tmp = None if work_dir else tempfile.TemporaryDirectory(prefix="huiyin-uno-")
        self.work = Path(work_dir or self._tmp.name).resolve()  # type: ignore[union-attr]
        self.work.mkdir(parents=True, exist_ok=True)
        self.timeout, self.start_timeout = timeout, start_timeout
        self.niceness = niceness  # > 0: LibreOffice yields the CPU to more urgent work
        self._process: subprocess.Popen[bytes] | None = None
        self._port = 0
        self.restarts = 0

    def start(self) -> None:
        """Start the server (the first conversion does it when not done before)."""
        if self._process is not None and self._process.poll() is None:
            return
        self._spawn()

    def _spawn(self) -> None:
        if not Path(SYSTEM_PYTHON).is_file():
            raise ConversionError(f"{SYSTEM_PYTHON} is missing: the warm converter needs it")
        import unoserver  # the server runs under the system Python, with uno, from our copy

        self._port, uno_port = _free_port(), _free_port()
        code = _WATCH_PARENT + ("import sys; sys.path.append(sys.argv.pop(1)); "
                                "from unoserver.server import main; sys.exit(main())")
        nice = ["nice", "-n", str(self.niceness)] if self.niceness else []
        forbid_fetching(self.work / "profile")
        command = [*nice, SYSTEM_PYTHON, "-c", code, str(Path(unoserver.__file__).parents[1]),
                   "--port", str(self._port), "--uno-port", str(uno_port),
                   "--executable", soffice(), "--quiet",
                   "--user-installation", str(self.work / "profile"),
                   "--conversion-timeout", str(int(self.timeout))]
        log = (self.work / "unoserver.log").open("ab")
        self._process = subprocess.Popen(command, stdout=log, stderr=log, stdin=subprocess.DEVNULL,
                                         env=_environment(self.work), start_new_session=True)
        log.close()
        deadline = time.monotonic() + self.start_timeout
        while time.monotonic() < deadline:
            if self._process.poll() is not None:
                raise ConversionError(f"unoserver exited at start; see {self.work}/unoserver.log")
            try:
                self._proxy(5).info()
                return
            except (OSError, xmlrpc.client.Error):
                time.sleep(0.2)
        self._stop()
        raise ConversionError(f"LibreOffice did not start within {self.start_timeout:.0f} s")

    def _proxy(self, timeout: float) -> xmlrpc.client.ServerProxy:
        return xmlrpc.client.ServerProxy(f"http://127.0.0.1:{self._port}", allow_none=True,
                                         transport=_TimeoutTransport(timeout))

    def convert(self, docx: Path, pdf: Path) -> Path:
        """Convert one file; on a failure or a timeout restart LibreOffice and try once more."""
        for attempt in (1, 2):
            self.start()
            partial = pdf.with_name(f".{pdf.name}.part")
            try:
                self._proxy(self.timeout).convert(
                    str(docx.resolve()), None, str(partial.resolve()), "pdf", PDF_FILTER,
                    list(PDF_OPTIONS), False, None, None)
                if partial.is_file() and partial.stat().st_size:
                    partial.replace(pdf)
                    return pdf
                error = "no PDF produced"
            except (OSError, xmlrpc.client.Error) as e:
                error = f"{type(e).__name__}: {e}"
            partial.unlink(missing_ok=True)
            self._stop()
            if attempt == 1:
                self.restarts += 1
        raise ConversionError(f"{docx.name}: conversion failed twice ({error})")

    def _stop(self) -> None:
        """Stop our server and its LibreOffice (the process group we started)."""
        if self._process is None:
            return
        if self._process.poll() is None:
            try:
                os.killpg(self._process.pid, signal.SIGTERM)
                self._process.wait(10)
            except subprocess.TimeoutExpired:
                os.killpg(self._process.pid, signal.SIGKILL)
                self._process.wait(10)
            except ProcessLookupError:
                pass
        try:  # soffice may outlive the server in the same group
            os.killpg(self._process.pid, signal.SIGKILL)
        except ProcessLookupError:
            pass
        self._process = None

    def close(self) -> None:
        self._stop()
        if self._tmp is not None:
            self._tmp.cleanup()

    def __enter__(self) -> WarmConverter:
        return self

    def __exit__(self, *exc: object) -> None:
        self.close()


def convert_to_pdf(docx: Path, pdf: Path, converter: Converter | None = None) -> Path:
    """Convert one document; without a converter, start LibreOffice just for it."""
    if converter is not None:
        return converter.convert(docx, pdf)
    cold = ColdConverter()
    try:
        return cold.convert(docx, pdf)
    finally:
        cold.close()
