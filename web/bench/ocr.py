"""`huiyin bench ocr`: accuracy and speed of every installed OCR engine, in one run.

Each engine is measured in a fresh process of its own (so cold start and peak RSS are its
own): CER per group of the eval set (``--data``, the format of ../shared/eval/ocr), seconds
per line and per A4 page (median, warm, one process), cold start. The real lines are also
composed into whole pages (ocr.paper: grid and ruled paper, vertical columns, photographed;
``page_*`` groups) with the share of written lines found, and the per-character doubt marks
are scored (share of misread characters marked against share of all characters marked, and
per kind of misreading: substitutions, insertions, deletions).
The default engine is also timed on a batch of pages read the way the product reads them (a
pool of worker processes, and for the ratio one process with two ONNX Runtime threads).
Field extraction is scored on the labelled letters in tests/ocr/data/letters_fields.json.
"""

from __future__ import annotations

import json
import os
import subprocess
import sys
from pathlib import Path
from typing import Any

import click

from web.bench import bench

ROOT = Path(__file__).resolve().parents[2]
DEFAULT_DATA = ROOT.parent / "shared/eval/ocr"
FIELDS_SET = ROOT / "tests/ocr/data/letters_fields.json"
PEERS = ("rapidocr", "paddle", "tesseract")
# The real lines read again with each crop also read in variants (ocr._variants, setting
# ``variants``; off by default), marked below the threshold chosen for it on half A.
VARIANT_SETTINGS = "variants=narrow+slant_left+slant_right"
VARIANT_BELOW = 0.81

# Runs in a fresh interpreter: imports only ocr, prints one JSON document.
_ENGINE_CHILD = r"""
import csv, json, resource, statistics, sys, time
from pathlib import Path
started = time.perf_counter()
import ocr
from ocr import paper
from PIL import Image
name, data = sys.argv[1], Path(sys.argv[2])
lines_only = len(sys.argv) > 3  # the real lines alone, marked below sys.argv[3]
below = float(sys.argv[3]) if lines_only else ocr.DOUBT_BELOW
ocr.get_engine(name)
cold = time.perf_counter() - started
totals, line_times, page_times = {}, [], []
doubt = {}
def pool(groups, ref, hyp):
    e, n = ocr.character_errors(ref, hyp)
    for g in groups:
        t = totals.setdefault(g, [0, 0]); t[0] += e; t[1] += n
def marks(page):
    flags = []
    for k, line in enumerate(page.lines):
        flags += [False] if k else []
        flags += [p < below for p in line.confidences] or [False] * len(line.text)
    return flags
def mark(groups, ref, page):
    for g in groups:
        doubt.setdefault(g, ocr.DoubtTally()).add(ref, page.text, marks(page))
real = []
labels = data / "real/labels.tsv"
if labels.is_file():
    with labels.open(encoding="utf-8", newline="") as f:
        for n, row in enumerate(csv.DictReader(f, delimiter="\t")):
            image = Image.open(data / "real" / row["file"])
            image.load()
            real.append((image, row["text"]))
            t = time.perf_counter()
            page = ocr.ocr_image(image, engine=name)
            line_times.append(time.perf_counter() - t)
            pool(("real_" + row["script"], "real"), row["text"], page.text)
            # The threshold was chosen on the even lines (half A); B is the figure to quote.
            mark(("real", "real_half_A" if n % 2 == 0 else "real_half_B"), row["text"], page)
manifest = data / "pages/manifest.json"
if manifest.is_file() and not lines_only:
    entries = json.loads(manifest.read_text(encoding="utf-8"))
    for entry in entries:
        image = Image.open(data / "pages" / entry["image"])
        image.load()
        t = time.perf_counter()
        text = ocr.ocr_image(image, engine=name).text
        page_times.append(time.perf_counter() - t)
        reference = (data / "pages" / entry["text"]).read_text(encoding="utf-8")
        pool(("synthetic_" + entry["kind"], "synthetic"), reference, text)
# The real lines composed into whole pages (13 a page, the same text in every set).
SETS = {
    "grid": dict(paper="grid"),
    "ruled": dict(paper="ruled"),
    "grid_photo": dict(paper="grid", photo=True),
    "ruled_photo": dict(paper="ruled", photo=True),
    "vertical": dict(paper="grid", vertical=True),
    "vertical_photo": dict(paper="grid", vertical=True, photo=True),
    "vertical_as_horizontal": dict(paper="grid", cut=True),
}
composed = {}
for set_name, how in SETS.items() if real and not lines_only else ():
    how = dict(how); photo = how.pop("photo", False)
    found = lines = 0; times = []
    for number, start in enumerate(range(0, len(real), 13)):
        written = paper.compose_page(real[start:start + 13], seed=number, **how)
        image = paper.photograph(written.image, seed=number) if photo else written.image
        t = time.perf_counter()
        page = ocr.ocr_image(image, engine=name)
        times.append(time.perf_counter() - t)
        pool(("page_" + set_name,), written.text, page.text)
        mark(("page_" + set_name,), written.text, page)
        f, n = ocr.lines_found(written.lines, page.text)
        found += f; lines += n
    composed[set_name] = {"lines_found": f"{found}/{lines}",
                          "s_per_page": round(statistics.median(times), 2)}
median = lambda xs: round(statistics.median(xs[1:] or xs), 3) if xs else None
print(json.dumps({
    "cer": {g: round(e / n, 4) for g, (e, n) in sorted(totals.items()) if n},
    "doubt_below": below,
    "doubt_marks": {g: t.as_dict() for g, t in sorted(doubt.items())},
    "composed_pages": composed,
    "s_per_line": median(line_times),
    "s_per_page": median(page_times),
    "cold_start_s": round(cold, 2),
    "rss_mb": round(resource.getrusage(resource.RUSAGE_SELF).ru_maxrss / 1024),
}))
"""

_BATCH_CHILD = r"""
import json, resource, sys, time
from pathlib import Path
import ocr
from ocr import synthetic
from PIL import Image
data, pages, workers, out = Path(sys.argv[1]), int(sys.argv[2]), int(sys.argv[3]), Path(sys.argv[4])
entries = json.loads((data / "pages/manifest.json").read_text(encoding="utf-8"))
images = [Image.open(data / "pages" / entries[i % len(entries)]["image"]) for i in range(pages)]
synthetic.save_pdf(images, out)
list(ocr.read_pages(out, workers=workers, first=max(1, pages - workers + 1)))  # warm pool
t = time.perf_counter()
read = sum(1 for _ in ocr.read_pages(out, workers=workers))
seconds = time.perf_counter() - t
ocr.shutdown_workers()
rss = resource.getrusage(resource.RUSAGE_SELF).ru_maxrss + resource.getrusage(
    resource.RUSAGE_CHILDREN).ru_maxrss
print(json.dumps({"pages": read, "workers": workers, "seconds": round(seconds, 2),
                  "pages_per_s": round(read / seconds, 3), "rss_mb": round(rss / 1024)}))
"""


def _child(script: str, *args: str, env: dict[str, str] | None = None) -> dict[str, Any]:
    """Run one measurement in a fresh interpreter and return its JSON, or the error."""
    done = subprocess.run(
        [sys.executable, "-c", script, *args],
        capture_output=True,
        text=True,
        cwd=ROOT,
        env={**os.environ, "OMP_THREAD_LIMIT": "1", **(env or {})},
        timeout=3600,
        check=False,
    )
    lines = done.stdout.strip().splitlines()
    if done.returncode != 0 or not lines:
        return {"error": (done.stderr.strip().splitlines() or ["failed"])[-1][:300]}
    result: dict[str, Any] = json.loads(lines[-1])
    return result


def fields_scores(path: Path = FIELDS_SET) -> dict[str, dict[str, float]]:
    """Precision and recall per field kind on the labelled letters."""
    from ocr.fields import score_fields

    return score_fields(json.loads(path.read_text(encoding="utf-8")))


@bench.command("ocr")
@click.option(
    "--data",
    type=click.Path(file_okay=False, path_type=Path),
    default=DEFAULT_DATA,
    show_default=True,
    help="An eval set in the format of ../shared/eval/ocr.",
)
@click.option(
    "--engine",
    "engines",
    multiple=True,
    help="Engines to measure (default: every installed one of rapidocr, paddle, tesseract).",
)
@click.option(
    "--batch",
    "batch_pages",
    type=int,
    default=20,
    show_default=True,
    help="Pages in the batch throughput run (0: skip).",
)
@click.option("--workers", type=int, default=None, help="Worker processes for the batch.")
@click.option("--json", "as_json", is_flag=True, help="Print one JSON document.")
def command(
    data: Path, engines: tuple[str, ...], batch_pages: int, workers: int | None, as_json: bool
) -> None:
    """Character error rate per group, speed, cold start and RSS of each OCR engine."""
    import ocr

    if not (data / "real/labels.tsv").is_file() and not (data / "pages/manifest.json").is_file():
        raise click.ClickException(f"no OCR eval set at {data} (real/labels.tsv, pages/)")
    installed = ocr.engine_names()
    chosen = list(engines) or [e for e in PEERS if e in installed]
    report: dict[str, Any] = {
        "data": str(data),
        "cores": os.cpu_count(),
        "load_before": [round(x, 2) for x in os.getloadavg()],
        "engines": {},
    }
    for name in chosen:
        if name not in installed:
            report["engines"][name] = {"error": ocr._engine.unavailable_message(name)}
            continue
        click.echo(f"measuring {name} ...", err=True)
        report["engines"][name] = _child(_ENGINE_CHILD, name, str(data))
        if name == ocr.DEFAULT_ENGINE and (data / "real/labels.tsv").is_file():
            click.echo(f"measuring {name} with {VARIANT_SETTINGS} on the real lines ...", err=True)
            report["engines"][name]["real_variants"] = {
                "settings": VARIANT_SETTINGS,
                **_child(
                    _ENGINE_CHILD,
                    name,
                    str(data),
                    str(VARIANT_BELOW),
                    env={"HUIYIN_OCR_RAPIDOCR": VARIANT_SETTINGS},
                ),
            }
    if batch_pages and (data / "pages/manifest.json").is_file():
        import tempfile

        n = workers or ocr.default_workers()
        with tempfile.TemporaryDirectory() as tmp:
            click.echo(f"batch of {batch_pages} pages, {n} worker processes ...", err=True)
            pool_run = _child(_BATCH_CHILD, str(data), str(batch_pages), str(n), f"{tmp}/b.pdf")
            click.echo(f"batch of {batch_pages} pages, 1 process x {n} threads ...", err=True)
            threads_run = _child(
                _BATCH_CHILD,
                str(data),
                str(batch_pages),
                "1",
                f"{tmp}/b.pdf",
                env={"HUIYIN_OCR_RAPIDOCR": f"threads={n}"},
            )
        default = report["engines"].setdefault(ocr.DEFAULT_ENGINE, {})
        default["batch"] = {"processes": pool_run, "threads": threads_run}
        default["pages_per_s"] = pool_run.get("pages_per_s")
    report["load_after"] = [round(x, 2) for x in os.getloadavg()]
    if FIELDS_SET.is_file():
        report["fields"] = fields_scores()
    if as_json:
        click.echo(json.dumps(report, ensure_ascii=False, indent=1))
        return
    for name, result in report["engines"].items():
        click.echo(f"{name}: {json.dumps(result, ensure_ascii=False)}")
    click.echo(f"fields: {json.dumps(report.get('fields'), ensure_ascii=False)}")
