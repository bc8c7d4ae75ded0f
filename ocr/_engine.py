"""The OCR engine interface and the registry that picks and caches an engine by name.

An engine turns one upright RGB page image into text boxes in any order; reading order
is the job of :mod:`ocr._layout`, so every engine gets the same line grouping. A new
engine is a new module with a class that has ``name`` and ``recognize`` plus one
``register_engine`` line here (or from anywhere, at run time).
"""

from __future__ import annotations

import importlib
import importlib.util
import shutil
import threading
from collections.abc import Callable
from dataclasses import dataclass
from typing import Protocol, runtime_checkable

from PIL import Image

from ._errors import EngineUnavailable
from ._types import Line

DEFAULT_ENGINE = "rapidocr"


@runtime_checkable
class Engine(Protocol):
    """What the reader needs from an OCR engine."""

    name: str

    def recognize(self, image: Image.Image) -> list[Line]:
        """Text boxes found on an upright RGB image, in page pixels, in any order."""
        ...


@dataclass(frozen=True)
class _Entry:
    """How to build an engine, and the module whose absence means it is not installed."""

    factory: Callable[[], Engine] | str  # a callable, or "module:attribute" imported lazily
    requires: str | None = None


_REGISTRY: dict[str, _Entry] = {
    "rapidocr": _Entry("ocr._rapid:engine_from_environment", requires="rapidocr"),
    "paddle": _Entry("ocr._paddle:PaddleOcrEngine", requires="paddleocr"),
    "tesseract": _Entry("ocr._tesseract:TesseractEngine", requires=None),
}
# Engines that are optional extras: asking for one that is absent says how to install it.
INSTALL_HINTS = {
    "paddle": "pip install 'huiyin[paddle]'",
    "tesseract": "apt-get install tesseract-ocr tesseract-ocr-chi-sim tesseract-ocr-chi-tra",
}
_LOADED: dict[str, Engine] = {}
_LOCK = threading.Lock()


def register_engine(
    name: str, factory: Callable[[], Engine] | str, *, requires: str | None = None
) -> None:
    """Make an engine available by name (replacing any earlier one and its cached model)."""
    with _LOCK:
        _REGISTRY[name] = _Entry(factory, requires)
        _LOADED.pop(name, None)


def _installed(name: str, entry: _Entry) -> bool:
    """Whether the engine's library (or program) is present, without importing it."""
    if name == "tesseract" and entry.requires is None:
        return shutil.which("tesseract") is not None
    return entry.requires is None or importlib.util.find_spec(entry.requires) is not None


def engine_names() -> list[str]:
    """Names of the registered engines whose libraries are installed, default first."""
    names = [name for name, entry in _REGISTRY.items() if _installed(name, entry)]
    return sorted(names, key=lambda n: (n != DEFAULT_ENGINE, n))


def _build(name: str, entry: _Entry) -> Engine:
    """Import and construct an engine, translating failures into EngineUnavailable."""
    factory = entry.factory
    try:
        if isinstance(factory, str):
            module_name, _, attribute = factory.partition(":")
            factory = getattr(importlib.import_module(module_name), attribute)
        engine = factory()
    except EngineUnavailable:
        raise
    except Exception as e:  # the engine's own import or model-loading error
        first_line = (str(e).strip().splitlines() or [""])[0][:200]
        raise EngineUnavailable(
            f"OCR 引擎 {name} 无法加载：{type(e).__name__}: {first_line}"
        ) from e
    return engine


def get_engine(name: str | None = None) -> Engine:
    """The engine of that name, loaded once per process and shared afterwards."""
    name = name or DEFAULT_ENGINE
    engine = _LOADED.get(name)
    if engine is not None:
        return engine
    with _LOCK:
        engine = _LOADED.get(name)
        if engine is None:
            entry = _REGISTRY.get(name)
            if entry is not None and not _installed(name, entry):
                raise EngineUnavailable(unavailable_message(name))
            if entry is None:
                known = "、".join(engine_names()) or "无"
                raise EngineUnavailable(f"没有名为 {name!r} 的 OCR 引擎（可用：{known}）")
            engine = _build(name, entry)
            _LOADED[name] = engine
    return engine


def unavailable_message(name: str) -> str:
    """Why an engine cannot be used, with the command that installs it when we know one."""
    known = "、".join(engine_names()) or "无"
    hint = INSTALL_HINTS.get(name)
    if hint and name not in engine_names():
        return f"OCR 引擎 {name} 未安装：{hint}（可用：{known}）"
    return f"没有名为 {name!r} 的 OCR 引擎（可用：{known}）"


def spawnable(name: str) -> bool:
    """Whether a fresh worker process can build this engine by name (a built-in one)."""
    entry = _REGISTRY.get(name)
    return entry is not None and isinstance(entry.factory, str)
