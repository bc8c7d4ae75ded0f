"""More-like-this likeness (issue 20): a share that means the same for every letter, calibrated
on the labelled repeat set — letters on another matter are never shown as alike, the same
letter again is 100 %, and each hit says why it is shown. Real indexes of every engine."""

from __future__ import annotations

from pathlib import Path

from search import LetterDoc
from search._likeness import LIKE, NEAR, band
from tests.search.conftest import Open
from tests.web import repeat_set

UNRELATED_PAGE = (
    "第三十二条 信访人对行政机关作出的信访事项处理意见不服的，可以自收到书面答复之日起"
    "三十日内请求原办理行政机关的上一级行政机关复查。"
)


def test_likeness_is_calibrated_on_the_repeat_set(tmp_path: Path, open_index: Open) -> None:
    originals, follow_ups = repeat_set.build()
    written = originals + follow_ups
    docs = [
        LetterDoc(i + 1, w.text, petitioners=(w.person.name,), township=w.person.township)
        for i, w in enumerate(written)
    ]
    docs.append(LetterDoc(500, written[0].text))  # the first letter again, nameless
    docs.append(LetterDoc(501, UNRELATED_PAGE))
    same: list[float] = []
    other_matter: list[float] = []
    with open_index(tmp_path / "repeat") as ix:
        ix.add(docs)
        for i in range(0, len(written), 3):
            for hit in ix.more_like_this(i + 1, limit=20).hits:
                assert hit.similarity is not None and 0.0 <= hit.similarity <= 1.0
                assert hit.reasons[0] == f"{band(hit.similarity)}（{hit.similarity:.0%}）"
                if hit.letter_id > len(written):
                    continue
                a, b = written[i], written[hit.letter_id - 1]
                if a.person == b.person and a.matter == b.matter:
                    same.append(hit.similarity)
                elif a.matter % len(repeat_set.MATTERS) != b.matter % len(repeat_set.MATTERS):
                    other_matter.append(hit.similarity)
        again = ix.more_like_this(1).hits[0]
        assert (again.letter_id, again.similarity) == (500, 1.0)
        assert again.reasons[0] == "内容几乎相同（100%）"
        assert any(r.startswith("共同内容：") for r in again.reasons)
        asked = follow_ups[0].matter  # an original letter with a follow-up
        person = next(h for h in ix.more_like_this(asked + 1).hits if "同一信访人姓名" in h.reasons)
        assert written[person.letter_id - 1].person.name == written[asked].person.name
        page = ix.more_like_this(501).hits  # nothing like it: never shown as alike
        assert all((h.similarity or 0.0) < LIKE for h in page)
    assert other_matter and max(other_matter) < LIKE  # another matter is never 内容相似
    assert len(same) >= 20
    assert sum(s >= LIKE for s in same) / len(same) >= 0.7
    assert max(same) >= NEAR
