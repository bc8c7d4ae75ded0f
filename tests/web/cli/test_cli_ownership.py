"""Units, users, routes, owners, 督办, 批示, 听证, registering visits and calls, XLSX rates."""

from __future__ import annotations

import datetime as dt
import itertools
from pathlib import Path

import pytest

from records import cases, intake
from records.workflow import document_evidence, next_working_day
from tests.web.conftest import Scan, run, run_json
from web.services.instance import Instance

_SHAS = itertools.count(1)


def _case(instance: Instance, home: Path, days_ago: int = 0, text: str = "") -> dict:  # type: ignore[type-arg]
    with instance.db.session() as session:
        letter = intake.register_letter(
            session, sha256=f"{next(_SHAS):064x}",
            source_name="s.jpg", media_type="image/jpeg", size_bytes=1,
            received_on=instance.today() - dt.timedelta(days=days_ago), actor="clerk1")
        letter.summary, letter.text, letter.township = "征地补偿", text, "石桥镇"
        reg_no = letter.reg_no
    return run_json(home, "case", "open", reg_no)


def _office(home: Path) -> None:
    for args in (("unit", "add", "石桥镇人民政府", "--level", "township"),
                 ("unit", "add", "枣树营村委会", "--parent", "石桥镇人民政府",
                  "--level", "village"),
                 ("unit", "add", "县自然资源局"),
                 ("user", "add", "wangjj", "--role", "leader", "--display-name", "王建军",
                  "--no-password", "--unit", "石桥镇人民政府")):
        result = run(home, *args)
        assert result.exit_code == 0, result.output


def test_units_users_and_the_routing_table(instance: Instance, home: Path) -> None:
    _office(home)
    listed = run_json(home, "unit", "list")["units"]
    assert [(u["name"], u["level"], u["parent"]) for u in listed] == [
        ("县自然资源局", "county", None), ("石桥镇人民政府", "township", None),
        ("枣树营村委会", "village", "石桥镇人民政府")]
    bad = run(home, "unit", "add", "县住建局", "--parent", "枣树营村委会")
    assert bad.exit_code == 1 and "不能隶属于村/社区单位 枣树营村委会" in bad.stderr
    assert run(home, "unit", "add", "某组", "--level", "team").exit_code == 2
    run_json(home, "route", "set", "石桥镇", "*", "石桥镇人民政府", "--lead", "wangjj")
    run_json(home, "route", "set", "*", "国土资源", "县自然资源局")
    assert run_json(home, "route", "list")["routes"] == [
        {"township": "*", "category": "国土资源", "unit": "县自然资源局", "lead": None},
        {"township": "石桥镇", "category": "*", "unit": "石桥镇人民政府", "lead": "wangjj"}]
    unknown = run(home, "route", "set", "李集镇", "*", "李集镇人民政府")
    assert unknown.exit_code == 1 and "huiyin unit add 李集镇人民政府" in unknown.stderr


def test_assign_accuse_and_the_lists_per_unit_and_leader(instance: Instance, home: Path) -> None:
    _office(home)
    late, fresh = _case(instance, home, days_ago=20), _case(instance, home, text="x")
    assigned = run_json(home, "case", "assign", late["case_no"], "--unit", "石桥镇人民政府",
                        "--lead", "wangjj", "--reason", "属地管理")
    assert assigned["unit"] == "石桥镇人民政府" and assigned["lead"] == "wangjj"
    assert run(home, "case", "assign", fresh["case_no"], "--unit", "县自然资源局").exit_code == 2
    by_lead = run_json(home, "cases", "--overdue", "--unit", "石桥镇人民政府", "--lead", "wangjj")
    assert [c["case_no"] for c in by_lead["cases"]] == [late["case_no"]]
    assert run_json(home, "cases", "--unit", "县自然资源局")["cases"] == []

    conflict = run(home, "case", "accuse", late["case_no"], "--unit", "石桥镇人民政府")
    assert conflict.exit_code == 1 and "第三十条第三款" in conflict.stderr
    run_json(home, "case", "assign", late["case_no"], "--unit", "县自然资源局", "--reason",
             "检举件，上提一级")
    run_json(home, "case", "accuse", late["case_no"], "--unit", "石桥镇人民政府", "--person",
             "王建军")
    for unit in ("石桥镇人民政府", "枣树营村委会"):
        refused = run(home, "case", "assign", late["case_no"], "--unit", unit, "--reason", "r")
        assert refused.exit_code == 1 and "第三十条第三款" in refused.stderr
    shown = run_json(home, "case", "show", late["case_no"])
    assert shown["unit"] == "县自然资源局" and shown["lead"] is None
    assert shown["accused"] == {"unit": "石桥镇人民政府", "person": "王建军"}
    assert [e["reason"] for e in shown["timeline"] if e["action"] == "assign-owner"] == [
        "属地管理", "检举件，上提一级"]
    assert run(home, "case", "accuse", late["case_no"]).exit_code == 2


def test_supervision_instructions_and_hearings(instance: Instance, home: Path) -> None:
    case = _case(instance, home, days_ago=3)["case_no"]
    soon = (instance.today() + dt.timedelta(days=5)).isoformat()
    run_json(home, "case", "supervise", case, "reminder", "请于本周内报送进展", "--due", soon)
    run_json(home, "case", "supervise", case, "note", "已电话督促")
    high = run_json(home, "case", "supervise", case, "escalation", "县领导挂牌督办")
    past = run(home, "case", "supervise", case, "reminder", "x", "--due", "2020-01-01")
    assert past.exit_code == 1 and "已经过去" in past.stderr
    assert run(home, "case", "supervise", case, "urge", "x").exit_code == 2
    assert [i["kind"] for i in run_json(home, "supervision")["items"]] == ["reminder",
                                                                          "escalation"]
    [escalated] = run_json(home, "supervision", "--escalated")["items"]
    assert escalated["case_no"] == case and escalated["label"] == "挂牌督办"
    run_json(home, "case", "resolve", case, str(high["id"]))
    assert run_json(home, "supervision", "--escalated")["items"] == []

    order = run_json(home, "case", "instruct", case, "--leader", "王建军", "--text",
                     "请自然资源局牵头核实", "--action", "现场核查", "--action", "书面报告")
    run_json(home, "case", "done", case, str(order["id"]), "1")
    missing = run(home, "case", "done", case, str(order["id"]), "3")
    assert missing.exit_code == 1 and "numbered 1 to 2" in missing.stderr
    assert run(home, "case", "instruct", case, "--leader", "王", "--text", "t").exit_code == 2

    run_json(home, "case", "transition", case, "accept", "--told", "当面告知")
    start = instance.today().isoformat()
    end = (instance.today() + dt.timedelta(days=1)).isoformat()
    heard = run_json(home, "case", "hearing", case, "--kind", "hearing", "--from", start,
                     "--to", end, "--note", "邀请村民代表")
    expected = next_working_day(instance.today() + dt.timedelta(days=60), instance.calendar)
    assert heard["deadline"]["due"] == expected.isoformat()  # §34 excludes no hearing time
    assert heard["hearing"]["paused_days"] == 0
    yesterday = (instance.today() - dt.timedelta(days=1)).isoformat()
    wrong = run(home, "case", "hearing", case, "--from", start, "--to", yesterday)
    assert wrong.exit_code == 1 and "before it starts" in wrong.stderr
    later = run(home, "case", "hearing", case, "--from", end, "--to", end)
    assert later.exit_code == 1 and "在今天" in later.stderr  # not begun: recorded when it does
    shown = run_json(home, "case", "show", case)
    assert shown["paused_days"] == 0 and shown["hearings"][0]["note"] == "邀请村民代表"
    assert [a["done_on"] is not None for a in shown["instructions"][0]["actions"]] == [True,
                                                                                      False]
    assert [s["kind"] for s in shown["supervision"]] == ["reminder", "note", "escalation"]
    human = run(home, "case", "show", case).stdout
    assert "批示#" in human and "听证" in human and "挂牌督办" in human


def test_flags_proposed_from_the_text_and_changed_by_the_clerk(instance: Instance,
                                                               home: Path) -> None:
    opened = _case(instance, home, text="尊敬的省信访局领导：\n我们全体村民反映征地问题。")
    assert sorted(opened["flags"]) == sorted(["越级", "集体"])
    changed = run_json(home, "case", "flag", opened["case_no"], "--remove", "越级", "--add",
                       "重复", "--reason", "县里转来")
    assert sorted(changed["flags"]) == ["重复", "集体"]
    assert run(home, "case", "flag", opened["case_no"]).exit_code == 2


def test_a_visit_is_registered_without_a_scan_and_found(instance: Instance, home: Path) -> None:
    result = run_json(home, "register", "--channel", "visit", "--text",
                      "反映枣树营村征地补偿款至今没有发放，请求督促解决。", "--name", "韩秋菊",
                      "--phone", "13839452176", "--township", "石桥镇")
    assert result["channel"] == "visit" and result["chars"] > 10
    with instance.db.session() as session:
        letter = intake.get_letter(session, result["letter_id"])
        assert (letter.channel, letter.ingest_state, letter.page_count) == ("visit", "indexed", 0)
        assert [p.name for p in letter.petitioners] == ["韩秋菊"]
        assert letter.summary == "反映枣树营村征地补偿款至今没有发放，请求督促解决"
        original = instance.blobs.path(letter.source_sha256).read_text(encoding="utf-8")
    assert "渠道：来访（visit）" in original and "征地补偿款" in original
    assert run_json(home, "search", "征地补偿")["hits"][0]["letter_id"] == result["letter_id"]
    assert run_json(home, "check")["ok"] is True
    same = run_json(home, "register", "--channel", "phone", "--text",
                    "反映枣树营村征地补偿款至今没有发放，请求督促解决。", "--name", "韩秋菊")
    assert same["letter_id"] != result["letter_id"]  # a second call is a second item
    assert run(home, "register", "--channel", "letter", "--text", "t", "--name", "n"
               ).exit_code == 2
    assert run(home, "register", "--channel", "visit", "--text", " ", "--name", "n"
               ).exit_code == 1
    run_json(home, "case", "open", str(result["letter_id"]))


@pytest.mark.slow
def test_ingest_sets_the_channel(instance: Instance, home: Path, scans: list[Scan]) -> None:
    [result] = run_json(home, "ingest", "--channel", "mailbox", str(scans[0].path))["results"]
    with instance.db.session() as session:
        assert intake.get_letter(session, result["letter_id"]).channel == "mailbox"
    assert run(home, "ingest", "--channel", "fax", str(scans[0].path)).exit_code == 2


def test_stats_as_xlsx_with_the_local_rate(instance: Instance, home: Path,
                                           tmp_path: Path) -> None:
    from openpyxl import load_workbook

    _office(home)
    case = _case(instance, home)["case_no"]
    run_json(home, "case", "assign", case, "--unit", "枣树营村委会", "--reason", "属地")
    run_json(home, "case", "transition", case, "accept", "--told", "当面告知")
    run_json(home, "case", "transition", case, "start")
    refused = run(home, "case", "transition", case, "reply", "--decision", "支持")
    assert refused.exit_code == 1 and "须签发处理意见书" in refused.stderr
    with instance.db.session() as session:  # as `huiyin reply ... --sign` does when it signs
        cases.transition(session, cases.get_case(session, case), "reply", instance.today(),
                         actor="h1", calendar=instance.calendar, decision="支持",
                         evidence=document_evidence("reply"))
    document = run_json(home, "stats", "--xlsx", str(tmp_path / "rates.xlsx"))
    local = next(r for r in document["groups"]["全部"] if r["key"] == "settled_locally")
    assert (local["name"], local["numerator"], local["denominator"]) == ("四个不出率", 1, 1)
    sheet = load_workbook(tmp_path / "rates.xlsx").active
    rows = list(sheet.iter_rows(values_only=True))  # type: ignore[union-attr]
    assert rows[1][:6] == ("分组", "指标", "比率", "分子", "分母", "口径")
    assert ("全部", "四个不出率", 1, 1, 1) in [row[:5] for row in rows]
    assert ("全部", "再次来信不予受理率", None, 0, 0) == rows[-1][:5]  # one letter: none again
    bad = run(home, "stats", "--from", "2026-03-01", "--to", "2026-02-01")
    assert bad.exit_code == 1 and "before --from" in bad.stderr
