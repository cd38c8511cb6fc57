"""Search keys for product names, the same on SQLite and PostgreSQL: computed in Python when a product is saved
(``name_folded``, ``name_lower``) and from the query, then compared with LIKE, so both databases find the same
products. ``bat trang`` finds ``Bát Tràng``, ``duong`` finds ``đường``; NFD input and stacked marks are folded
the same way (app/text.py). Exact-diacritic matches rank before folded ones, whole words before parts of words.

On PostgreSQL the matches come from ``catalogue_search()`` (migration 0013_catalogue): the same LIKE patterns
answered from a pg_trgm index, which the application role cannot use directly under row-level security
(``published_matches``). The same LIKE conditions, filters and ranking apply to what it returns
(marketplace/queries.py), so the results are those of SQLite, read from an index instead of a scan of every
product.
"""

from __future__ import annotations

import re
import unicodedata

from sqlalchemy import BigInteger, DateTime, Integer, String, Text, and_, bindparam, case, column, func, literal
from sqlalchemy.dialects.postgresql import ARRAY

from app.text import fold

_WORDS = re.compile(r"[^\w]+", re.UNICODE)
MAX_QUERY_LENGTH = 100


def words(text: str) -> str:
    """Words separated by single spaces (punctuation dropped): the shape both keys are stored in."""
    return " ".join(part for part in _WORDS.split(text) if part)


def folded_key(text: str | None) -> str:
    return words(fold(text or ""))


def lower_key(text: str | None) -> str:
    return words(unicodedata.normalize("NFC", text or "").casefold())


def _like(value: str) -> str:
    return value.replace("\\", "\\\\").replace("%", "\\%").replace("_", "\\_")


def folded_patterns(query: str) -> list[str]:
    """The LIKE patterns (backslash escapes) that the folded name must all match: one per word of the query."""
    folded = folded_key((query or "")[:MAX_QUERY_LENGTH])
    return [f"%{_like(word)}%" for word in folded.split(" ")] if folded else []


def search_values(query: str) -> dict[str, str] | None:
    """The values a search ``query`` compares with, by name: ``word0``, ``word1``... (the LIKE patterns the folded
    name must all match) and the three rank patterns; None when the query has no word. ``match_and_rank`` puts them
    in a statement as they are; ``match_and_rank_bound`` as bind parameters of the same names (a statement built once
    per number of words, marketplace/queries.py)."""
    query = (query or "")[:MAX_QUERY_LENGTH]
    folded, lower = folded_key(query), lower_key(query)
    if not folded:
        return None
    values = {f"word{i}": pattern for i, pattern in enumerate(folded_patterns(query))}
    values.update(rank_lower_word=f"% {_like(lower)} %", rank_lower=f"%{_like(lower)}%",
                  rank_folded_word=f"% {_like(folded)} %")
    return values


def _match_and_rank_of(values: dict, folded_column, lower_column, value):
    where = and_(*[folded_column.like(value(name), escape="\\") for name in values if name.startswith("word")])
    padded_lower = literal(" ") + lower_column + literal(" ")
    padded_folded = literal(" ") + folded_column + literal(" ")
    rank = case(
        (padded_lower.like(value("rank_lower_word"), escape="\\"), 0),
        (lower_column.like(value("rank_lower"), escape="\\"), 1),
        (padded_folded.like(value("rank_folded_word"), escape="\\"), 2),
        else_=3,
    )
    return where, rank


def match_and_rank(query: str, folded_column, lower_column):
    """(where clause, rank expression) for a search ``query``; None when the query has no word.

    Every word must appear in the folded name. Rank (lower first): 0 the exact text with its marks as a whole
    word, 1 the exact text inside a word, 2 the folded text as whole words, 3 the folded words anywhere.
    """
    values = search_values(query)
    if values is None:
        return None
    return _match_and_rank_of(values, folded_column, lower_column, values.__getitem__)


def match_and_rank_bound(words: int, folded_column, lower_column):
    """``match_and_rank`` for a query of ``words`` words, its values left as bind parameters named as
    ``search_values`` names them: the same conditions, built once and given each query's values."""
    names = {f"word{i}": None for i in range(words)}
    return _match_and_rank_of(names, folded_column, lower_column, lambda name: bindparam(name, type_=String))


def published_matches(query: str):
    """PostgreSQL only: the published products of active vendors in active communes whose folded name has every word
    of ``query``, as a table (id, tenant_id, vendor_id, category, name_folded, name_lower, price, created_at) read
    from the trigram index by ``catalogue_search``, a SECURITY DEFINER function: public fields only, what every
    visitor's search shows anyway."""
    return func.catalogue_search(literal(folded_patterns(query), ARRAY(Text))).table_valued(
        column("id", Integer), column("tenant_id", Integer), column("vendor_id", Integer),
        column("category", String), column("name_folded", String), column("name_lower", String),
        column("price", BigInteger), column("created_at", DateTime(timezone=True)), name="matches")
