"""search: the full-text index of petition letters (Chinese-aware, engine behind a facade).

Takes plain :class:`LetterDoc` values and knows nothing of the database; the index is derived
data that ``huiyin reindex`` can rebuild (:meth:`LetterIndex.clear` + :meth:`LetterIndex.add`).

    with LetterIndex.open(instance / "index") as index:
        index.add([LetterDoc(letter_id=17, text="...", petitioners=("胡涛超",))])
        result = index.search("胡涛超 征地补偿", township="石桥镇")

A word one character off in a letter (misread by the OCR, a name spelled by ear) is found after
every exact hit unless ``tolerant=False``; each hit says how it matched (``Hit.match``,
``Hit.note``), and a search that finds nothing carries ``SearchResult.suggestions``.
"""

from search._analysis import clean_for_index
from search._index import LetterIndex
from search._schema import CONTENT_VERSION
from search._tolerance import prepare as prepare_tolerance
from search._types import Hit, LetterDoc, QueryError, SearchError, SearchResult, Suggestion

__all__ = [
    "CONTENT_VERSION",
    "Hit",
    "LetterDoc",
    "LetterIndex",
    "QueryError",
    "SearchError",
    "SearchResult",
    "Suggestion",
    "clean_for_index",
    "prepare_tolerance",
]
