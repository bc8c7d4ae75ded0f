"""A labelled set for repeat detection, made by code: people write again about the same matter.

Each person has one matter (a case); follow-up letters restate it in other words, sometimes
with the phone or ID number, sometimes with only the name. Distractors: the same name in
another township, and the same kind of matter from other people.
"""

from __future__ import annotations

import random
from dataclasses import dataclass

from ocr.fields import valid_id_number

SURNAMES = ("王李张刘陈杨黄赵周吴徐孙马朱胡郭何高林罗郑"
            "梁谢宋唐韩冯邓曹彭曾萧田董潘袁蔡蒋余于杜叶程魏")
GIVEN = "建国秀英志强丽华海燕春梅宝山红梅振东晓岚秋菊广福玉兰德明桂芳长青永红淑珍金凤立新"
TOWNSHIPS = ("城关镇", "石桥镇", "李集镇", "青山乡", "柳河乡", "双庙镇")
VILLAGES = ("枣树营村", "杨树岗村", "柳河湾村", "南关社区", "北苑社区", "东岗村", "王庄村",
            "河口村")
COMPANIES = ("鑫源建筑公司", "宏达置业公司", "永安物流公司", "恒通路桥公司", "金穗食品厂")
MATTERS = (
    ("征地补偿", "{village}的{n}亩承包地被征收，按标准应补偿{amount}元，只拿到{paid}元",
     "我家承包地被征收后补偿款还差{rest}元没有发"),
    ("拖欠工资", "在{company}的工地干了{n}个月，被拖欠工资{amount}元",
     "{company}欠我的{amount}元工钱到现在还没给"),
    ("低保", "家里{n}口人生活困难，低保申请被村里退回，没有说明原因",
     "我申请低保的事情一直没有结果，村里也不解释"),
    ("宅基地", "邻居翻建房屋时占用我家宅基地约{n}平方米",
     "邻居占了我家{n}平方米宅基地，调解没有结果"),
    ("养老保险", "在{company}工作时养老保险断缴{n}年，单位不给补缴",
     "{company}没给我补缴那{n}年的养老保险"),
    ("施工噪音", "{company}在{village}附近夜间施工，噪音扰民已经{n}个月",
     "{company}晚上施工的噪音还是很大，孩子没法睡觉"),
)


@dataclass(frozen=True)
class Person:
    name: str
    township: str
    village: str
    id_number: str
    phone: str


@dataclass(frozen=True)
class Written:
    person: Person
    matter: int  # index of the person's matter = the case it belongs to
    text: str


def _id(rng: random.Random) -> str:
    stem = f"4117{rng.randrange(10, 99)}{rng.randrange(1950, 2000)}{rng.randrange(1, 13):02d}" \
           f"{rng.randrange(1, 29):02d}{rng.randrange(100, 999)}"
    return next(stem + c for c in "0123456789X" if valid_id_number(stem + c))


def build(seed: int = 11, people: int = 40, follow_ups: int = 80) -> tuple[list[Written],
                                                                            list[Written]]:
    """Originals (one per person, each opens a case) and follow-ups (labelled by matter)."""
    rng = random.Random(seed)
    persons, facts = [], []
    for i in range(people):
        # every fifth person shares the name of an earlier one, in another township
        name = (persons[i - 5].name if i % 5 == 4 else
                rng.choice(SURNAMES) + rng.choice(GIVEN[::2]) + rng.choice(GIVEN[1::2]))
        township = rng.choice([t for t in TOWNSHIPS if i % 5 != 4 or t != persons[i - 5].township])
        persons.append(Person(name, township, rng.choice(VILLAGES), _id(rng),
                              f"1{rng.choice('3589')}{rng.randrange(10**8, 10**9)}"))
        amount = rng.randrange(20, 300) * 1000
        facts.append({"n": rng.randrange(2, 30), "amount": amount, "paid": amount // 3,
                      "rest": amount - amount // 3, "village": persons[-1].village,
                      "company": rng.choice(COMPANIES), "kind": i % len(MATTERS)})
    originals = [Written(p, i, _original(p, facts[i])) for i, p in enumerate(persons)]
    later = []
    for _ in range(follow_ups):
        i = rng.randrange(people)
        later.append(Written(persons[i], i, _follow_up(persons[i], facts[i], rng)))
    return originals, later


def _original(p: Person, f: dict[str, int | str]) -> str:
    kind, first, _ = MATTERS[int(f["kind"])]
    return (f"尊敬的县信访局领导：\n我叫{p.name}，住{p.township}{p.village}，"
            f"身份证号{p.id_number}，联系电话{p.phone}。\n我反映{kind}的问题：{first.format(**f)}。\n"
            f"多次找有关部门反映，至今没有解决，请求领导督促处理。\n信访人：{p.name}")


def _follow_up(p: Person, f: dict[str, int | str], rng: random.Random) -> str:
    kind, _, second = MATTERS[int(f["kind"])]
    opening = rng.choice(("县信访局：", "尊敬的领导：您好！", "各位领导："))
    contact = rng.choice((f"电话{p.phone}", f"身份证号{p.id_number}", "", ""))
    earlier = rng.choice(("我之前写信反映过", "上次来信说的事", "前几个月我来信反映的"))
    return (f"{opening}\n{earlier}{kind}的事情，{second.format(**f)}。{contact}\n"
            f"希望领导重视，尽快给个答复。\n反映人：{p.name}（{p.township}）")
