"""`huiyin cases` and `huiyin case ...`: the clerk's view of the statutory clocks."""

from __future__ import annotations

import datetime as dt
import json
import re
from pathlib import Path

from records import intake
from tests.web.conftest import run, run_json
from web.services.instance import Instance


def _letters(instance: Instance, *received: dt.date) -> list[str]:
    numbers = []
    with instance.db.session() as session:
        for n, day in enumerate(received):
            letter = intake.register_letter(session, sha256=f"{n + 1:064x}", source_name="s.jpg",
                                            media_type="image/jpeg", size_bytes=1,
                                            received_on=day, actor="clerk1")
            letter.summary = f"第{n + 1}件来信的事项"
            numbers.append(letter.reg_no)
    return numbers


def test_open_act_and_list(instance: Instance, home: Path) -> None:
    today = instance.today()
    first, second = _letters(instance, today - dt.timedelta(days=20), today)
    opened = run_json(home, "case", "open", first)
    assert opened["case_no"].startswith("XF-") and opened["stage"] == "registered"
    assert opened["deadline"]["overdue"] is True
    run_json(home, "case", "open", second, "--title", "电梯停运")

    overdue = run_json(home, "cases", "--overdue")["cases"]
    assert [c["case_no"] for c in overdue] == [opened["case_no"]]
    assert [c["title"] for c in run_json(home, "cases")["cases"]] == ["第1件来信的事项", "电梯停运"]

    refused = run(home, "case", "transition", opened["case_no"], "accept")
    assert refused.exit_code == 1 and "须签发受理告知书" in refused.stderr  # a notice is owed
    accepted = run_json(home, "case", "transition", opened["case_no"], "accept",
                        "--told", "当面告知", "--reason", "属本机关职责")
    assert accepted["stage"] == "accepted" and accepted["deadline"]["days_left"] >= 59
    shown = run_json(home, "case", "show", str(opened["case_id"]))
    assert shown["allowed_actions"] == ["start", "ask_extension", "reply", "withdraw"]
    refusals = {a["action"]: a["reason"] for a in shown["agenda"]["actions"] if not a["allowed"]}
    assert "尚未申请延期" in refusals["extend"]  # a leader approves what a handler asked
    assert shown["agenda"]["deadlines"][0]["article"] == "第三十四条"
    assert [e["action"] for e in shown["timeline"]] == ["open-case", "transition"]
    assert shown["timeline"][1]["reason"] == "属本机关职责"


def test_an_illegal_action_is_refused_with_the_reason(instance: Instance, home: Path) -> None:
    [number] = _letters(instance, instance.today())
    case_no = run_json(home, "case", "open", number)["case_no"]
    result = run(home, "case", "transition", case_no, "close")
    assert result.exit_code == 1
    assert "不能办结" in result.stderr and "可以：受理" in result.stderr
    reply = run(home, "case", "transition", case_no, "reply")
    assert reply.exit_code == 1 and "不能出具处理意见" in reply.stderr
    show = json.loads(run(home, "case", "show", case_no, "--json").stdout)
    assert show["stage"] == "registered" and len(show["timeline"]) == 1


def test_link_a_second_letter(instance: Instance, home: Path) -> None:
    first, second = _letters(instance, instance.today(), instance.today())
    case = run_json(home, "case", "open", first)
    linked = run_json(home, "case", "link", second, case["case_no"], "--reason", "同一事项")
    assert linked["case_id"] == case["case_id"]
    assert len(run_json(home, "case", "show", case["case_no"])["letters"]) == 2
    assert run(home, "case", "show", "XF-2020-999999").exit_code == 1


def test_stats_by_month_with_definitions_and_csv(instance: Instance, home: Path,
                                                 tmp_path: Path) -> None:
    today = instance.today()
    first, second = _letters(instance, today, today)
    run_json(home, "case", "open", first)
    case = run_json(home, "case", "open", second)
    run_json(home, "case", "transition", case["case_no"], "accept", "--told", "电话告知",
             "--note", "拨 13839452176，本人接听")
    document = run_json(home, "stats", "--by", "month", "--csv", str(tmp_path / "rates.csv"))
    assert document["cases"] == 2
    [month] = document["groups"]
    rates = {r["key"]: r for r in document["groups"][month]}
    assert rates["timely_acceptance"]["numerator"] == 1
    assert rates["timely_acceptance"]["denominator"] == 1
    assert rates["timely_acceptance"]["name"] == "及时受理率"
    assert all(r["definition"] for r in rates.values())
    table = (tmp_path / "rates.csv").read_text(encoding="utf-8-sig").splitlines()
    assert table[0] == "分组,指标,比率,分子,分母,口径,分子为,分母为,数据来源"
    assert len(table) == 1 + len(rates)
    assert rates["on_time"]["denominator_is"] and rates["on_time"]["source"]


def test_letters_without_reply_show_their_case_clock(instance: Instance, home: Path) -> None:
    today = instance.today()
    loose, in_case = _letters(instance, today - dt.timedelta(days=3), today - dt.timedelta(days=1))
    case = run_json(home, "case", "open", in_case)
    run_json(home, "case", "transition", case["case_no"], "accept", "--told", "信访人匿名")
    rows = {r["reg_no"]: r for r in run_json(home, "letters", "--without-reply")["letters"]}
    assert rows[loose]["case_no"] is None and rows[loose]["deadline_for"].startswith("书面告知")
    assert rows[in_case]["case_no"] == case["case_no"]
    assert rows[in_case]["deadline_for"] == "出具信访处理意见书"  # §31(六), §34
    assert rows[in_case]["days_left"] >= 59


def test_a_visit_above_the_next_level_by_six_people_counts_as_bypass_and_collective(
        instance: Instance, home: Path) -> None:
    """§20: 越级 and 集体 are visits, by where the petitioners went and how many came — what
    the clerk writes down at registration (before, nothing could record either)."""
    went = run_json(home, "register", "--channel", "visit", "--text",
                    "六户村民到省信访局反映征地补偿", "--name", "韩秋菊", "--township", "石桥镇",
                    "--level", "province", "--people", "6")
    near = run_json(home, "register", "--channel", "visit", "--text", "到县信访局反映低保",
                    "--name", "祁宝山", "--township", "青山乡")
    for letter in (went, near):
        run_json(home, "case", "open", letter["reg_no"])
    rates = {r["key"]: r for r in run_json(home, "stats")["groups"]["全部"]}
    assert (rates["bypass"]["numerator"], rates["bypass"]["denominator"]) == (1, 2)
    assert (rates["collective"]["numerator"], rates["collective"]["denominator"]) == (1, 2)
    bad = run(home, "register", "--channel", "visit", "--text", "t", "--name", "n",
              "--people", "0")
    assert bad.exit_code == 2


def test_the_petitioners_evaluation_is_recorded_after_the_answer(instance: Instance,
                                                                  home: Path) -> None:
    """§18/§21: the petitioner judges the handling; 满意率 counts only recorded evaluations."""
    answered, waiting = _letters(instance, instance.today(), instance.today())
    case = run_json(home, "case", "open", answered)
    other = run_json(home, "case", "open", waiting)
    with instance.db.session() as session:  # answered: its 处理意见书 signed and delivered
        from records import cases

        found = cases.get_case(session, case["case_no"])
        found.status, found.replied_on = "replied", instance.today()
        found.replied_delivered_on = instance.today()
    refused = run(home, "case", "rate", other["case_no"], "满意", "--way", "电话")
    assert refused.exit_code == 1 and "送达后才能评价" in refused.stderr
    assert run(home, "case", "rate", case["case_no"], "满意", "--way", "网上").exit_code == 2
    rated = run_json(home, "case", "rate", case["case_no"], "基本满意", "--way", "电话",
                     "--note", "电话回访")
    assert rated["way"] == "电话"
    again = run(home, "case", "rate", case["case_no"], "满意", "--way", "当面")
    assert again.exit_code == 1 and "只评价一次" in again.stderr
    code = run_json(home, "case", "code", case["case_no"])
    assert re.fullmatch(r"[0-9A-Z]{4}-[0-9A-Z]{4}-[0-9A-Z]{4}", code["code"])
    assert run_json(home, "case", "code", case["case_no"])["code"] == code["code"]
    renewed = run_json(home, "case", "code", case["case_no"], "--new")
    assert renewed["code"] != code["code"] and renewed["url"].endswith("/query")
    assert renewed["code"] in run(home, "case", "code", case["case_no"]).output
    rates = {r["key"]: r for r in run_json(home, "stats")["groups"]["全部"]}
    assert (rates["satisfaction"]["numerator"], rates["satisfaction"]["denominator"]) == (1, 1)
