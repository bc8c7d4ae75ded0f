"""`huiyin bench reply`: N 处理意见书 rendered, converted and signed end to end, vs cold starts.

A throw-away instance with the demo letters; each reply goes through the real path (records,
blob store, .docx, LibreOffice kept warm, pyHanko), and each stage is timed on the way. The same
run converts a few documents with LibreOffice started per document, for the ratio, verifies
every signed PDF, and measures one PDF of every template against GB/T 9704.
"""

from __future__ import annotations

import contextlib
import datetime as dt
import json
import statistics
import tempfile
import time
from collections.abc import Callable, Iterator
from pathlib import Path
from typing import Any

import click

import letters
from web.bench import bench

DATA = {"facts": "经调查，2025年3月，镇人民政府与你签订了补偿协议，约定补偿款38.6万元，"
                 "已发放30万元，余款8.6万元因资金未到位尚未发放",
        "decision": "支持", "legal_basis": "《国有土地上房屋征收与补偿条例》第二十五条",
        "opinion": "责成镇人民政府于2026年12月31日前将余款发放到位",
        "review_authority": "清河县人民政府", "reason": "该事项已经人民法院作出生效判决",
        "channel": "你可以依法申请再审", "accepted_date": "2026-11-12",
        "extension_reason": "该事项涉及多个部门，需进一步调查核实", "new_due_date": "2027-02-10",
        "extension_days": "30", "deadline_date": "2027-02-10",
        "original_office": "清河县住房和城乡建设局",
        "original_doc_number": "清住建信复〔2026〕17号",
        "review_request_date": "2026-12-20", "conclusion": "维持原处理意见",
        "next_authority": "清河市人民政府", "served_document": "信访事项处理意见书",
        "served_doc_number": "清住建信复〔2026〕17号", "service_address": "清河镇枣树营村",
        "delivery_method": "邮寄"}


@contextlib.contextmanager
def _timed(times: dict[str, list[float]]) -> Iterator[None]:
    """Wrap the letters stages the reply path calls, recording how long each call takes."""
    names = ("render_docx", "convert_to_pdf", "sign_pdf")
    originals = {name: getattr(letters, name) for name in names}

    def wrap(name: str, function: Callable[..., Any]) -> Callable[..., Any]:
        def timed(*args: Any, **kwargs: Any) -> Any:
            start = time.perf_counter()
            try:
                return function(*args, **kwargs)
            finally:
                times.setdefault(name, []).append(time.perf_counter() - start)
        return timed

    for name, function in originals.items():
        setattr(letters, name, wrap(name, function))
    try:
        yield
    finally:
        for name, function in originals.items():
            setattr(letters, name, function)


def _stats(values: list[float]) -> dict[str, float]:
    if not values:
        return {}
    ordered = sorted(values)
    return {"n": len(values), "mean_s": round(statistics.mean(values), 4),
            "p50_s": round(ordered[len(ordered) // 2], 4),
            "max_s": round(ordered[-1], 4)}


@bench.command("reply")
@click.option("--n", "count", default=100, show_default=True, help="Replies to produce.")
@click.option("--cold", "cold_count", default=5, show_default=True,
              help="Documents converted with LibreOffice started per document.")
@click.option("--json", "as_json", is_flag=True, help="Print one JSON document.")
def command(count: int, cold_count: int, as_json: bool) -> None:
    """Render, convert and sign N 处理意见书; verify them; compare with cold LibreOffice."""
    from web.services import demo
    from web.services.instance import Instance
    from web.services.replies import ensure_office_certificate, generate_reply, verify_document
    from web.services.sign_confirmation import Confirmation

    with tempfile.TemporaryDirectory(prefix="huiyin-bench-reply-") as tmp:
        instance = Instance(Path(tmp) / "instance")
        instance.create()
        demo.load(instance)
        ensure_office_certificate(instance)
        letter_ids = [row["letter_id"] for row in _letters(instance)]
        times: dict[str, list[float]] = {}
        outcomes = []
        with letters.WarmConverter(Path(tmp) / "warm") as warm:
            started = time.perf_counter()
            warm.start()
            warm_start = time.perf_counter() - started
            started = time.perf_counter()
            # the benchmark stands in for a leader who typed the password a moment ago
            confirmed = Confirmation(confirmed=True, password_at=dt.datetime.now(dt.UTC),
                                     via="bench")
            with _timed(times):
                for i in range(count):
                    outcomes.append(generate_reply(
                        instance, letter_ids[i % len(letter_ids)], "handling_opinion",
                        out_dir=None, actor="bench", data=DATA, sign=True, converter=warm,
                        confirmation=confirmed))
            total = time.perf_counter() - started
            layout = _layout(instance, letter_ids[0], warm, Path(tmp))
        verify_times = []
        for outcome in outcomes:
            data = Path(str(outcome.files["signed_pdf"])).read_bytes()
            start = time.perf_counter()
            valid = verify_document(instance, data)["valid"]
            verify_times.append(time.perf_counter() - start)
            if not valid:
                raise click.ClickException(f"reply {outcome.reply_id} does not verify")
        cold = letters.ColdConverter(Path(tmp) / "cold")
        cold_times = []
        source = Path(str(outcomes[0].files["docx"]))
        for i in range(cold_count):
            start = time.perf_counter()
            cold.convert(source, Path(tmp) / f"cold-{i}.pdf")
            cold_times.append(time.perf_counter() - start)
        cold.close()
        instance.close()
    warm_each = statistics.mean(times.get("convert_to_pdf", [0.0]))
    cold_each = statistics.mean(cold_times) if cold_times else 0.0
    report = {
        "documents": count, "template": "handling_opinion",
        "end_to_end_s": round(total, 2), "per_document_s": round(total / max(count, 1), 3),
        "documents_per_s": round(count / total, 2) if total else None,
        "warm_start_s": round(warm_start, 2),
        "stages": {"render_docx": _stats(times.get("render_docx", [])),
                   "convert_warm": _stats(times.get("convert_to_pdf", [])),
                   "sign": _stats(times.get("sign_pdf", [])),
                   "verify": _stats(verify_times),
                   "convert_cold": _stats(cold_times)},
        "cold_vs_warm_conversion": round(cold_each / warm_each, 1) if warm_each else None,
        "cold_end_to_end_estimate_s": round(total + count * (cold_each - warm_each), 1),
        "layout": layout,
        "layout_deviations": sum(len(v) for v in layout.values()),
    }
    if as_json:
        click.echo(json.dumps(report, ensure_ascii=False, indent=2))
    else:
        click.echo(f"{count} replies in {total:.1f} s ({total / count:.2f} s each); "
                   f"conversion warm {warm_each:.2f} s vs cold {cold_each:.2f} s; verify "
                   f"{statistics.mean(verify_times) * 1000:.0f} ms; layout deviations "
                   f"{report['layout_deviations']}")


def _letters(instance: Any) -> list[dict[str, Any]]:
    from web.services.replies import letters_without_reply

    return letters_without_reply(instance)


def _layout(instance: Any, letter_id: int, converter: letters.Converter,
            tmp: Path) -> dict[str, list[str]]:
    """One PDF of every template, measured: the deviations beyond 1 mm, by template."""
    from web.services.replies import generate_reply

    found = {}
    for template in letters.template_names():
        outcome = generate_reply(instance, letter_id, template, out_dir=tmp / "layout",
                                 actor="bench", data=DATA, converter=converter)
        found[template] = letters.measure_layout(
            Path(str(outcome.files["pdf"])), letter_format=template != "assignment").deviations
    return found
