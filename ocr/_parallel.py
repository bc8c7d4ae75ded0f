"""Pages of one file OCR'd in parallel by worker processes, yielded in page order.

Each worker process loads the engine once (at start) and keeps its model for every later
file; it opens the scan itself and reads the pages it is given, so only page numbers and
finished text cross between processes. At most ``workers * READ_AHEAD`` pages are in
flight, so memory stays bounded whatever the length of the file.

Measured (docs/ocr.md): two processes of one ONNX Runtime thread each beat one process of
two threads on a 2-core machine, as shared/FINDINGS.md found.
"""

from __future__ import annotations

import atexit
import multiprocessing
import os
import threading
import time
from collections import deque
from collections.abc import Generator
from concurrent.futures import Future, ProcessPoolExecutor
from concurrent.futures.process import BrokenProcessPool
from pathlib import Path

from ._engine import get_engine
from ._errors import OcrError
from ._loaders import OCR_DPI, Limits, Source, open_unmanaged
from ._types import PageText

READ_AHEAD = 2  # pages queued per worker beyond the one it is reading
MAX_DEFAULT_WORKERS = 4
PARENT_CHECK_S = 1.0

_POOLS: dict[tuple[str, int], ProcessPoolExecutor] = {}
_POOLS_LOCK = threading.Lock()

# -- inside a worker process


_WORKER_SOURCE: tuple[tuple[Path, int, int, Limits], Source] | None = None


def _start_worker(engine: str, parent: int) -> None:
    """Load the engine's model once, when the worker process starts, and leave with the
    parent: a parent killed outright never tells its pool, whose workers would wait forever."""
    threading.Thread(target=_follow_parent, args=(parent,), daemon=True).start()
    get_engine(engine)


def _follow_parent(parent: int) -> None:
    """Exit this worker as soon as the process that started it is gone."""
    while os.getppid() == parent:
        time.sleep(PARENT_CHECK_S)
    os._exit(0)


def _read_in_worker(path: Path, limits: Limits, number: int, engine: str) -> PageText:
    """One page of a file, reading its text layer or OCR'ing its image."""
    global _WORKER_SOURCE
    from ._reader import ocr_image

    stat = path.stat()
    key = (path, stat.st_mtime_ns, stat.st_size, limits)  # a path reused for a new file
    if _WORKER_SOURCE is None or _WORKER_SOURCE[0] != key:
        if _WORKER_SOURCE is not None:
            _WORKER_SOURCE[1].close()
            _WORKER_SOURCE = None
        _WORKER_SOURCE = (key, open_unmanaged(path, limits))
    source = _WORKER_SOURCE[1]
    page = source.text_layer(number)
    if page is not None:
        return page
    image = source.image(number, OCR_DPI)
    try:
        return ocr_image(image, engine=engine, number=number)
    finally:
        image.close()


# -- in the caller


def default_workers() -> int:
    """Worker processes used when the caller does not say: one per core, at most 4."""
    return max(1, min(os.cpu_count() or 1, MAX_DEFAULT_WORKERS))


def pool(engine: str, workers: int) -> ProcessPoolExecutor:
    """The running pool for this engine and size, started on first use (spawned, not forked)."""
    key = (engine, workers)
    with _POOLS_LOCK:
        executor = _POOLS.get(key)
        if executor is None:
            executor = ProcessPoolExecutor(
                max_workers=workers,
                mp_context=multiprocessing.get_context("spawn"),
                initializer=_start_worker,
                initargs=(engine, os.getpid()),
            )
            _POOLS[key] = executor
        return executor


def _discard(engine: str, workers: int, executor: ProcessPoolExecutor) -> None:
    """Forget a broken pool so the next file starts a fresh one."""
    with _POOLS_LOCK:
        if _POOLS.get((engine, workers)) is executor:
            del _POOLS[(engine, workers)]
    executor.shutdown(wait=False, cancel_futures=True)


def shutdown_workers() -> None:
    """Stop every worker process (they are also stopped when the program exits)."""
    with _POOLS_LOCK:
        pools = list(_POOLS.values())
        _POOLS.clear()
    for executor in pools:
        executor.shutdown(wait=True, cancel_futures=True)


atexit.register(shutdown_workers)


def parallel_pages(
    path: Path, count: int, engine: str, first: int, workers: int, limits: Limits
) -> Generator[PageText, None, None]:
    """Pages ``first..count`` read by the pool, yielded in order; pending work is
    cancelled when the caller stops early, and a worker that dies is an OcrError."""
    executor = pool(engine, workers)
    pending: deque[tuple[int, Future[PageText]]] = deque()
    numbers = iter(range(first, count + 1))
    depth = workers * (1 + READ_AHEAD)

    def submit() -> None:
        """Queue the next page, if there is one."""
        number = next(numbers, None)
        if number is not None:
            future = executor.submit(_read_in_worker, path, limits, number, engine)
            pending.append((number, future))

    number = first
    try:
        for _ in range(depth):
            submit()
        while pending:
            number, future = pending.popleft()
            page = future.result()
            submit()
            yield page
    except BrokenProcessPool as e:  # a worker died (killed, out of memory)
        _discard(engine, workers, executor)
        raise OcrError(f"第 {number} 页识别时工作进程意外退出，请重试") from e
    finally:
        for _, future in pending:
            future.cancel()
