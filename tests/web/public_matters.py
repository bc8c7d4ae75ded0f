"""Matters as a petitioner queries them: the smallest records behind the public /query page.

A letter full of personal data (name, ID number, phone, address, an official named in the
text), its case answered and delivered, and a signed 处理意见书 delivered; the code is the
case's own. Used by the service, security and browser tests of the query page.
"""

from __future__ import annotations

import datetime as dt
from dataclasses import dataclass

from records import Reply, cases, intake, query_codes, units
from web.services.instance import Instance

NAME, ID_NUMBER, PHONE = "韩秋菊", "110101196803150021", "13912345678"
OFFICIAL = "王建国"  # an official the letter names
TEXT = (f"我叫{NAME}，身份证号{ID_NUMBER}，电话{PHONE}，住清河县柳林镇东关村3组。"
        f"镇干部{OFFICIAL}拖欠我家征地补偿款8.6万元，请求督促发放。")


@dataclass(frozen=True)
class Matter:
    """One matter as the tests need it: ids, numbers and the code as printed."""

    case_id: int
    case_no: str
    code: str  # shown, with dashes
    doc_number: str | None


def make_matter(instance: Instance, n: int, *, answered: bool, text: str = TEXT,
                name: str = NAME) -> Matter:
    """A matter from a letter of `text`; answered: 处理意见书 signed and delivered 3 days ago."""
    today = instance.today()
    with instance.db.session() as session:
        letter = intake.register_letter(session, sha256=f"{n:064x}", source_name="s.jpg",
                                        media_type="image/jpeg", size_bytes=1,
                                        received_on=today - dt.timedelta(days=40),
                                        actor="clerk1")
        intake.save_page(session, letter, number=1, width=10, height=10, source="scan",
                         engine="test", lines=[{"text": text}])
        letter.summary = text[:60]
        intake.attach_petitioner(session, letter, name=name, id_number=ID_NUMBER, phone=PHONE,
                                 actor="clerk1")
        case = cases.open_case(session, letter, actor="clerk1", title=text[:40])
        unit = units.add_unit(session, f"柳林镇人民政府{n}", actor="admin")
        case.unit_id = unit.id
        case.status, case.accepted_on = "accepted", today - dt.timedelta(days=35)
        doc_number = None
        if answered:
            case.status, case.decision = "replied", "支持"
            case.replied_on = today - dt.timedelta(days=5)
            case.replied_delivered_on = today - dt.timedelta(days=3)
            doc_number = f"清信处〔{today.year}〕{n}号"
            session.add(Reply(letter_id=letter.id, case_id=case.id, template="handling_opinion",
                              doc_number=doc_number, created_by="handler1",
                              signed_by="leader1", signed_pdf_sha256=f"{n:064x}",
                              data={"petitioner_name": name, "facts": text},
                              delivered_on=case.replied_delivered_on, delivery_method="邮寄",
                              step="reply"))
        session.flush()
        assert case.query_code is not None
        return Matter(case.id, case.case_no, query_codes.shown(case.query_code), doc_number)
