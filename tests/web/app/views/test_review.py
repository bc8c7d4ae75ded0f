"""校对: line edits keep the OCR original, stale saves get 409, saving opens or links a case."""

from __future__ import annotations

import re
from collections.abc import Iterator
from pathlib import Path

import pytest
from flask import Flask
from flask.testing import FlaskClient
from sqlalchemy import select

from records import AuditEvent, Case, Letter, Page, PageEdit, Unit
from tests.web.app.views.review_data import CATEGORY, Reviewable, build, copy, letter_version
from tests.web.conftest import Scan
from tests.web.signin import HANDLER_UNIT, csrf_token, sign_in
from web.app import create_app
from web.services import review
from web.services.instance import Instance
from web.services.registration import register_written

pytestmark = pytest.mark.slow  # the template instance is OCR'd once (a few seconds)


@pytest.fixture(scope="session")
def review_template(tmp_path_factory: pytest.TempPathFactory, scans: list[Scan]) -> Reviewable:
    return build(tmp_path_factory.mktemp("review") / "instance", scans)


@pytest.fixture
def office(review_template: Reviewable, tmp_path: Path) -> Reviewable:
    return copy(review_template, tmp_path)


@pytest.fixture
def app(office: Reviewable) -> Iterator[Flask]:
    app = create_app({"HUIYIN_HOME": str(office.home), "TESTING": True})
    yield app
    app.extensions["huiyin"].close()


@pytest.fixture
def clerk(app: Flask) -> FlaskClient:
    return sign_in(app.test_client(), "clerk1")


def _page(home: Path, letter_id: int) -> Page:
    with Instance(home) as instance, instance.db.session() as session:
        page = session.scalars(select(Page).where(Page.letter_id == letter_id)).first()
        assert page is not None
        session.expunge(page)
        return page


def _line_with(page: Page, needle: str) -> int:
    return next(i for i, line in enumerate(page.lines) if needle in line["text"])


def _edit(client: FlaskClient, letter_id: int, page_id: int, line: int, text: str,
          version: int, *, as_json: bool = False) -> object:
    token = csrf_token(client, f"/review/letters/{letter_id}")
    headers = {"Accept": "application/json", "X-CSRFToken": token} if as_json else {}
    data = {"page_id": page_id, "line": line, "text": text, "version": version}
    if not as_json:
        data["csrf_token"] = token
    return client.post(f"/review/letters/{letter_id}/lines", data=data, headers=headers)


def _form(office: Reviewable, **changes: str) -> dict[str, str]:
    scan = office.jpeg_scan
    form = {"p0_name": scan.name, "p0_id_number": scan.id_number, "p0_phone": scan.phone,
            "p0_address": "石桥镇枣树营村", "p1_name": "", "p1_id_number": "", "p1_phone": "",
            "p1_address": "", "township": "石桥镇", "village": "枣树营村",
            "category": CATEGORY, "summary": "征地补偿款至今没有发放", "case": "new",
            "low_lines_checked": "1"}
    form.update(changes)
    return form


def _save(client: FlaskClient, office: Reviewable, letter_id: int, form: dict[str, str],
          version: int | None = None) -> object:
    token = csrf_token(client, f"/review/letters/{letter_id}")
    version = letter_version(office.home, letter_id) if version is None else version
    return client.post(f"/review/letters/{letter_id}",
                       data={**form, "csrf_token": token, "version": str(version)})


# ---------------------------------------------------------------- who may


def test_clerk_reviews_and_the_read_is_audited(clerk: FlaskClient, office: Reviewable) -> None:
    queue = clerk.get("/review/").get_data(as_text=True)
    assert f"/review/letters/{office.jpeg}" in queue and f"/review/letters/{office.pdf}" in queue
    page = clerk.get(f"/review/letters/{office.jpeg}")
    assert page.status_code == 200
    html = page.get_data(as_text=True)
    assert f"/review/letters/{office.jpeg}/pages/1.png" in html
    assert "<polygon" in html and "键盘操作" in html
    assert office.jpeg_scan.phone in html  # the form is pre-filled from the text
    assert 'style="' not in html and "<script>" not in html  # the CSP allows neither
    with Instance(office.home) as instance, instance.db.session() as session:
        reads = session.scalars(select(AuditEvent).where(
            AuditEvent.action == "read", AuditEvent.entity_id == office.jpeg,
            AuditEvent.actor == "clerk1")).all()
    assert reads
    image = clerk.get(f"/review/letters/{office.jpeg}/pages/1.png")
    assert image.status_code == 200 and image.mimetype == "image/png"
    assert "no-store" in image.headers["Cache-Control"]
    assert image.data[:8] == b"\x89PNG\r\n\x1a\n"
    image.close()
    assert clerk.get(f"/review/letters/{office.jpeg}/pages/9.png").status_code == 404
    assert clerk.get("/review/letters/999").status_code == 404


@pytest.mark.parametrize("username", ["handler1", "admin1", "leader1"])
def test_other_roles_may_not_review(app: Flask, office: Reviewable, username: str) -> None:
    client = sign_in(app.test_client(), username)
    assert client.get("/review/").status_code == 403
    assert client.get(f"/review/letters/{office.jpeg}").status_code == 403
    response = client.post(f"/review/letters/{office.jpeg}/lines",
                           data={"page_id": 1, "line": 0, "text": "x", "version": 1},
                           headers={"X-CSRFToken": csrf_token(client, "/password")})
    assert response.status_code == 403


def test_strangers_are_sent_to_sign_in(app: Flask, office: Reviewable) -> None:
    client = app.test_client()
    for path in ("/review/", f"/review/letters/{office.jpeg}",
                 f"/review/letters/{office.jpeg}/pages/1.png"):
        response = client.get(path)
        assert response.status_code == 302 and "/login" in response.headers["Location"]


def test_page_image_follows_letter_visibility(app: Flask, clerk: FlaskClient,
                                              office: Reviewable) -> None:
    handler = sign_in(app.test_client(), "handler1")
    admin = sign_in(app.test_client(), "admin1")
    path = f"/review/letters/{office.jpeg}/pages/1.png"
    assert handler.get(path).status_code == 404  # not its unit's letter (yet): not there
    assert admin.get(path).status_code == 403  # an admin reads no letters
    assert _save(clerk, office, office.jpeg, _form(office)).status_code == 302
    shown = handler.get(path)
    shown.close()
    assert shown.status_code == 200  # routed to the handler's unit: visible now


# ---------------------------------------------------------------- line edits


def test_line_edit_keeps_the_original_and_changes_what_search_finds(
        clerk: FlaskClient, office: Reviewable) -> None:
    page = _page(office.home, office.jpeg)
    i = _line_with(page, "请求")
    original = page.lines[i]["text"]
    version = letter_version(office.home, office.jpeg)
    response = _edit(clerk, office.jpeg, page.id, i, "请求领导督促翡翠湾补偿款", version)
    assert response.status_code == 302  # the plain form: back to the page, at the line
    assert response.headers["Location"].endswith(f"#l-1-{i}")
    second = _edit(clerk, office.jpeg, page.id, i, "请求领导督促玛瑙湾补偿款", version + 1,
                   as_json=True)
    assert second.status_code == 200
    assert second.json["ocr_text"] == original and second.json["version"] == version + 2

    with Instance(office.home) as instance:
        with instance.db.session() as session:
            stored = session.get(Page, page.id)
            letter = session.get(Letter, office.jpeg)
            assert stored is not None and letter is not None
            assert stored.lines[i]["text"] == "请求领导督促玛瑙湾补偿款"
            assert stored.lines[i]["ocr_text"] == original
            assert stored.lines[i]["box"] == page.lines[i]["box"]
            assert "玛瑙湾" in stored.text and "玛瑙湾" in letter.text
            assert original not in letter.text
            edits = session.scalars(select(PageEdit).where(PageEdit.page_id == page.id)
                                    .order_by(PageEdit.id)).all()
            assert [(e.before, e.after, e.by) for e in edits] == [
                (original, "请求领导督促翡翠湾补偿款", "clerk1"),
                ("请求领导督促翡翠湾补偿款", "请求领导督促玛瑙湾补偿款", "clerk1")]
            assert all(e.line == i and e.at is not None for e in edits)
        assert [h.letter_id for h in instance.index.search("玛瑙湾").hits] == [office.jpeg]
        assert instance.index.search("翡翠湾").total == 0

    html = clerk.get(f"/review/letters/{office.jpeg}").get_data(as_text=True)
    assert "玛瑙湾" in html and original in html  # the machine's reading is still shown


def test_a_corrected_phone_number_is_found_by_phone(clerk: FlaskClient,
                                                    office: Reviewable) -> None:
    page = _page(office.home, office.jpeg)
    i = _line_with(page, office.jpeg_scan.phone)
    new_phone = "13712345678"
    text = page.lines[i]["text"].replace(office.jpeg_scan.phone, new_phone)
    version = letter_version(office.home, office.jpeg)
    assert _edit(clerk, office.jpeg, page.id, i, text, version, as_json=True).status_code == 200
    with Instance(office.home) as instance:
        assert [h.letter_id for h in instance.index.letters_from(phone=new_phone).hits] == [
            office.jpeg]
        with instance.db.session() as session:
            letter = session.get(Letter, office.jpeg)
            assert letter is not None and new_phone in letter.extracted["phones"]


def test_a_stale_version_gets_409_with_the_other_change(app: Flask, clerk: FlaskClient,
                                                        office: Reviewable) -> None:
    page = _page(office.home, office.jpeg)
    version = letter_version(office.home, office.jpeg)
    assert _edit(clerk, office.jpeg, page.id, 0, "尊敬的县信访局各位领导：", version,
                 as_json=True).status_code == 200
    other = sign_in(app.test_client(), "clerk1")
    stale = _edit(other, office.jpeg, page.id, 1, "别人的修改", version, as_json=True)
    assert stale.status_code == 409
    assert stale.json["conflict"]["changed_by"] == "clerk1"
    assert stale.json["conflict"]["version"] == version + 1
    assert stale.json["conflict"]["yours"] == "别人的修改"
    plain = _edit(other, office.jpeg, page.id, 1, "别人的修改", version)
    assert plain.status_code == 409
    assert "已被 clerk1 修改" in plain.get_data(as_text=True)
    # bad input on a stale form: refused for the input, and the form stays on its old version
    bad = _save(other, office, office.jpeg, _form(office, p0_phone="12"), version=version)
    assert bad.status_code == 400
    assert f'name="version" value="{version}"' in bad.get_data(as_text=True)
    refused = _save(other, office, office.jpeg, _form(office), version=version)
    assert refused.status_code == 409
    assert "已被 clerk1 修改" in refused.get_data(as_text=True)
    with Instance(office.home) as instance, instance.db.session() as session:
        letter = session.get(Letter, office.jpeg)
        assert letter is not None and letter.case_id is None and letter.reviewed_at is None
        assert "别人的修改" not in letter.text


def test_bad_line_input(clerk: FlaskClient, office: Reviewable) -> None:
    page = _page(office.home, office.jpeg)
    version = letter_version(office.home, office.jpeg)
    too_long = _edit(clerk, office.jpeg, page.id, 0, "字" * 501, version, as_json=True)
    assert too_long.status_code == 400 and "最多 500" in too_long.json["error"]
    other_letter = _page(office.home, office.pdf)
    wrong = _edit(clerk, office.jpeg, other_letter.id, 0, "x", version, as_json=True)
    assert wrong.status_code == 404
    beyond = _edit(clerk, office.jpeg, page.id, 99, "x", version, as_json=True)
    assert beyond.status_code == 400 and "没有第 100 行" in beyond.json["error"]


# ---------------------------------------------------------------- the letter's details


def test_saving_opens_a_routed_case_and_moves_on(clerk: FlaskClient, office: Reviewable) -> None:
    response = _save(clerk, office, office.jpeg, _form(office))
    assert response.status_code == 302
    assert response.headers["Location"].endswith(f"/review/letters/{office.pdf}")
    with Instance(office.home) as instance, instance.db.session() as session:
        letter = session.get(Letter, office.jpeg)
        assert letter is not None and letter.case is not None
        assert letter.reviewed_by == "clerk1" and letter.reviewed_at is not None
        assert (letter.township, letter.village, letter.category) == ("石桥镇", "枣树营村",
                                                                      CATEGORY)
        [person] = letter.petitioners
        assert (person.name, person.id_number, person.phone) == (
            office.jpeg_scan.name, office.jpeg_scan.id_number, office.jpeg_scan.phone)
        unit = session.get(Unit, letter.case.unit_id)
        assert unit is not None and unit.name == HANDLER_UNIT  # the routing table's unit
        assert letter.case.title == "征地补偿款至今没有发放"
        hits = instance.index.letters_from(id_number=office.jpeg_scan.id_number).hits
        assert [h.letter_id for h in hits] == [office.jpeg]
    queue = clerk.get("/review/").get_data(as_text=True)
    assert f"/review/letters/{office.jpeg}\"" not in queue  # reviewed: out of the queue


def test_saving_links_to_a_chosen_case(clerk: FlaskClient, office: Reviewable) -> None:
    assert _save(clerk, office, office.jpeg, _form(office)).status_code == 302
    with Instance(office.home) as instance, instance.db.session() as session:
        case = session.scalars(select(Case)).one()
        case_id, case_no = case.id, case.case_no
    page = clerk.get(f"/review/letters/{office.pdf}").get_data(as_text=True)
    assert 'value="new"' in page
    scan = office.pdf_scan
    form = _form(office, p0_name=scan.name, p0_id_number=scan.id_number, p0_phone=scan.phone,
                 case=str(case_id), summary="同一事项的补充材料")
    assert _save(clerk, office, office.pdf, form).status_code == 302
    with Instance(office.home) as instance, instance.db.session() as session:
        letter = session.get(Letter, office.pdf)
        assert letter is not None and letter.case_id == case_id
        assert session.scalars(select(Case)).all() == [session.get(Case, case_id)]
        links = session.scalars(select(AuditEvent).where(AuditEvent.action == "link-letter")
                                ).all()
        assert [e.detail["letter_id"] for e in links] == [office.pdf]
    # by its number, when the case was not among the proposals; saving again keeps it
    again = _form(office, p0_name=scan.name, case="other", case_no=case_no)
    assert _save(clerk, office, office.pdf, again).status_code == 302
    nowhere = _save(clerk, office, office.pdf, _form(office, case="other", case_no="XF-1"))
    assert nowhere.status_code == 400 and "没有找到案件" in nowhere.get_data(as_text=True)
    twice = _save(clerk, office, office.pdf, _form(office, case="new"))
    assert twice.status_code == 400 and "已属于案件" in twice.get_data(as_text=True)


@pytest.mark.parametrize(("field", "value", "message"), [
    ("p0_id_number", "411722196304123521", "校验位不对"),
    ("p0_id_number", "41172219630412", "应为 18 位"),
    ("p0_phone", "1383945", "不是有效的号码"),
    ("p0_name", "", "没有填写姓名"),
    ("category", "不存在的分类", "不在分类表中"),
])
def test_invalid_input_is_refused_clearly(clerk: FlaskClient, office: Reviewable, field: str,
                                          value: str, message: str) -> None:
    response = _save(clerk, office, office.jpeg, _form(office, **{field: value}))
    assert response.status_code == 400
    html = response.get_data(as_text=True)
    assert message in html
    assert value in html or not value  # what the clerk typed stays in the form
    with Instance(office.home) as instance, instance.db.session() as session:
        letter = session.get(Letter, office.jpeg)
        assert letter is not None
        assert letter.case_id is None and letter.reviewed_at is None and not letter.petitioners


def test_phone_and_id_numbers_are_normalised() -> None:
    assert review.normalize_phone(" 138 3945 2176 ") == "13839452176"
    assert review.normalize_phone("+8613839452176") == "13839452176"
    assert review.normalize_phone("0371-12345678") == "0371-12345678"
    assert review.normalize_id_number("41172219630412352x") == "41172219630412352X"
    with pytest.raises(review.ReviewError, match="校验位"):
        review.normalize_id_number("411722196304123520")


def test_the_queue_is_oldest_first_and_keeps_the_keys_documented(
        clerk: FlaskClient, office: Reviewable) -> None:
    html = clerk.get("/review/").get_data(as_text=True)
    positions = [m.start() for m in re.finditer(r"/review/letters/(\d+)\"", html)]
    assert len(positions) >= 2
    page = clerk.get(f"/review/letters/{office.pdf}").get_data(as_text=True)
    for key in ("j / ↓", "n", "Ctrl+S", "Esc"):
        assert key in page


def test_a_visit_written_down_has_no_scan_but_can_be_reviewed(clerk: FlaskClient,
                                                             office: Reviewable) -> None:
    with Instance(office.home) as instance:
        letter_id = register_written(
            instance, channel="visit", text="来访人反映村道损坏，请求修复。", name="韦大川",
            phone="13911112222", id_number=None, township="石桥镇",
            received_on=instance.today(), actor="clerk1")
    page = clerk.get(f"/review/letters/{letter_id}")
    assert page.status_code == 200
    html = page.get_data(as_text=True)
    assert "本件没有扫描页" in html and "村道损坏" in html and "韦大川" in html
    assert clerk.get(f"/review/letters/{letter_id}/pages/1.png").status_code == 404
    form = _form(office, p0_name="韦大川", p0_id_number="", p0_phone="13911112222",
                 case="none", category="其他")
    assert _save(clerk, office, letter_id, form).status_code == 302
    with Instance(office.home) as instance, instance.db.session() as session:
        letter = session.get(Letter, letter_id)
        assert letter is not None and letter.reviewed_by == "clerk1" and letter.case_id is None


# ---------------------------------------------------------------- issue 21: filing rules


@pytest.mark.parametrize(("changes", "field", "message"), [
    ({"township": ""}, "township", "请填写乡镇（街道）"),
    ({"category": ""}, "category", "请填写事项分类"),
    ({"summary": "  "}, "summary", "请填写事项摘要"),
    ({"p0_name": "", "p0_id_number": "", "p0_phone": "", "p0_address": ""}, "p0_name",
     "请填写信访人姓名"),
    ({"p0_id_number": "411722196304123521"}, "p0_id_number", "校验位不对"),
])
def test_a_letter_is_not_filed_without_what_the_register_needs(
        clerk: FlaskClient, office: Reviewable, changes: dict[str, str], field: str,
        message: str) -> None:
    """Ctrl+S on an untouched form filed a letter with no petitioner, place or matter."""
    response = _save(clerk, office, office.jpeg, _form(office, **changes))
    assert response.status_code == 400
    html = response.get_data(as_text=True)
    beside = re.search(rf'name="{field}"[^>]*aria-invalid="true"[^>]*>.*?'
                       rf'<span class="field-error" id="err-{field}" role="alert">([^<]*)</span>',
                       html, re.S)
    assert beside and message in beside.group(1), "the message is shown at the field"
    assert '<p class="error">' not in html  # not (only) at the top of the page
    with Instance(office.home) as instance, instance.db.session() as session:
        letter = session.get(Letter, office.jpeg)
        assert letter is not None and letter.reviewed_at is None and letter.case_id is None


def test_a_follow_up_letter_is_proposed_its_case_s_category(clerk: FlaskClient,
                                                            office: Reviewable) -> None:
    assert _save(clerk, office, office.jpeg, _form(office)).status_code == 302
    with Instance(office.home) as instance, instance.db.session() as session:
        case = session.scalars(select(Case)).one()
        letter = session.get(Letter, office.pdf)
        assert letter is not None and case.category == CATEGORY
        letter.case_id, letter.category = case.id, ""
    html = clerk.get(f"/review/letters/{office.pdf}").get_data(as_text=True)
    assert re.search(rf"<option selected>{CATEGORY}</option>", html)


def test_the_name_follows_a_corrected_signature_line(clerk: FlaskClient,
                                                     office: Reviewable) -> None:
    """The line edit answers with the names the corrected line now holds (review.js fills
    the name field that held the old reading)."""
    page = _page(office.home, office.jpeg)
    line = _line_with(page, "信访人")
    corrected = "信访人：韩秋桂"
    response = _edit(clerk, office.jpeg, page.id, line, corrected,
                     letter_version(office.home, office.jpeg), as_json=True)
    data = response.get_json()  # type: ignore[attr-defined]
    assert "韩秋桂" in data["found"]["names"], data
    assert data["before"] != corrected
    js = (Path(__file__).resolve().parents[4] / "web/app/static/review.js").read_text()
    assert "followName(data.before" in js


def test_doubtful_lines_must_be_looked_at_before_filing(clerk: FlaskClient,
                                                       office: Reviewable) -> None:
    """A letter was marked 已校对 although its low-confidence lines were never opened."""
    with Instance(office.home) as instance, instance.db.session() as session:
        letter = session.get(Letter, office.jpeg)
        assert letter is not None
        page = letter.pages[0]
        lines = [dict(line) for line in page.lines]
        lines[0]["score"] = 0.3  # one line the reader was unsure of
        page.lines = lines
    html = clerk.get(f"/review/letters/{office.jpeg}").get_data(as_text=True)
    assert 'name="low_lines_checked"' in html and "1 行低置信度文字" in html
    refused = _save(clerk, office, office.jpeg, _form(office, low_lines_checked=""))
    assert refused.status_code == 400
    assert 'id="err-low_lines_checked"' in refused.get_data(as_text=True)
    assert _save(clerk, office, office.jpeg, _form(office)).status_code == 302
