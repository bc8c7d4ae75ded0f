"""OCR never touches the network: with sockets disabled a fresh process loads and reads."""

from __future__ import annotations

import json
import subprocess
import sys
from pathlib import Path

import pytest

pytestmark = pytest.mark.slow

CHILD = r"""
import json, socket, sys

class NoNetwork(OSError):
    pass

def refuse(*args, **kwargs):
    raise NoNetwork("network access attempted")

class NoSocket(socket.socket):
    def __init__(self, *args, **kwargs):
        refuse()

socket.socket = NoSocket
socket.create_connection = refuse
socket.getaddrinfo = refuse
socket.socketpair = refuse

import ocr
from ocr import synthetic

assert "rapidocr" not in sys.modules  # the engine is loaded fresh, below
path = sys.argv[1]
TEXT = "我叫韩秋菊，电话13839452176"
synthetic.render_scan([TEXT], seed=5).crop((0, 150, 1654, 330)).save(path)
(page,) = ocr.read_pages(path)
print(json.dumps({
    "cer": ocr.character_error_rate(TEXT, page.text),
    "engine_loaded": "rapidocr" in sys.modules,
}))
"""


def test_fresh_process_without_network_reads_a_scan(tmp_path: Path):
    done = subprocess.run(
        [sys.executable, "-c", CHILD, str(tmp_path / "strip.png")],
        capture_output=True,
        text=True,
        timeout=300,
        check=False,
    )
    assert done.returncode == 0, done.stderr
    result = json.loads(done.stdout)
    assert result["engine_loaded"]
    assert result["cer"] <= 0.1
    assert done.stderr == ""  # RapidOCR's INFO logging does not reach stderr
