"""Our own tokenizers (decision 3 of the architecture guide: not jieba's ChineseAnalyzer).

Two token streams are made from the *search* form of a text (``normalize.for_search``: NFKC +
casefold, so full-width equals half-width and Kangxi radicals equal unified ideographs):

* **words** — jieba precise mode with the vocabulary's dictionary. Tokens carry ordinal
  positions (0, 1, 2 … over kept tokens) and real character offsets into the search form.
  Latin words and numbers are tokens of their own, casefolded, never stemmed; punctuation and
  white space are dropped. This stream drives ranking (BM25F).
* **grams** — the recall field. A text is cut into *runs* of alphanumeric characters (CJK,
  Latin letters, digits), and the runs are joined into *segments* across the punctuation,
  spaces and line breaks between them, except between two Latin letters/digits: matching is
  punctuation-blind, so “雄鹰”企业 holds the bigram 鹰企 and the query 雄鹰企业 finds it. Each
  segment of length n yields its n-1 adjacent bigrams, and its last character alone when no
  bigram of the text starts with it: a segment ``ABCD`` alone gives ``AB BC CD D`` — no more
  postings than a unigram field, yet every character of the text begins some term. A
  two-character query is then exactly one term, a longer one the conjunction of its bigrams
  (verified against the stored text), a single character the prefix ``c`` of this field.

The plain-text units (runs, segments, grams) are backend-neutral and live in
``indexer.search.text``; jieba's word cut is ``jieba_words``. Both are re-exported here.

Whoosh stores the analyzers inside the index, pickled; they hold only the vocabulary's version
and terms and build their jieba tokenizer lazily, once per process (so each worker process of a
parallel rebuild segments its own share of the text).
"""

from __future__ import annotations

from collections import Counter
from collections.abc import Iterator

from whoosh.analysis import Token, Tokenizer
from whoosh.formats import Existence, Frequency
from whoosh.system import pack_uint

from indexer.ingest.normalize import for_search
from indexer.search.jieba_words import (  # noqa: F401  (re-exported)
    _TOKENIZERS,
    jieba_for,
    register_vocabulary,
    tokenizer_for,
    word_tokens,
    words,
)
from indexer.search.text import gram_terms, is_latin, runs, segment_texts, segments


def _value_parts(value) -> tuple[str, ...]:
    return (value,) if isinstance(value, str) else tuple(value)


# ---------------------------------------------------------------------------------------------
# Whoosh analyzers (stored, pickled, in the index schema)


class _BaseTokenizer(Tokenizer):
    def __init__(self, version: str = "", terms: tuple[str, ...] = ()):
        self.version = version
        self.terms = tuple(terms)

    def __eq__(self, other):
        return type(self) is type(other) and self.version == other.version

    def __hash__(self):
        return hash((type(self).__name__, self.version))

    def _emit(self, items, positions, chars, start_pos=0, start_char=0, **kw):
        t = Token(positions, chars, **kw)
        for pos, (text, s, e) in enumerate(items, start_pos):
            t.text = t.original = text
            t.boost = 1.0
            t.stopped = False
            if positions:
                t.pos = pos
            if chars:
                t.startchar = start_char + s
                t.endchar = start_char + e
            yield t


class _Counting:
    """``counts(value)``: term counts of a text, or of a tuple of texts where every part after
    the first is *context* repeated on many records (heading path, document title, 出处) and
    therefore analysed once and cached. The tokenizer it is mixed into supplies
    ``_count(text) -> Counter`` (WordTokenizer: jieba words; GramTokenizer: character grams)."""

    def counts(self, value) -> Counter:
        parts = _value_parts(value)
        c = self._count(parts[0])
        for p in parts[1:]:
            if p:
                c.update(self._cached(p))
        return c

    def _cached(self, text: str) -> Counter:
        cache = self.__dict__.setdefault("_ctx_cache", {})
        hit = cache.get(text)
        if hit is None:
            if len(cache) > 4096:
                cache.clear()
            hit = cache[text] = self._count(text)
        return hit

    def __getstate__(self):
        state = dict(self.__dict__)
        state.pop("_ctx_cache", None)
        return state


class WordTokenizer(_Counting, _BaseTokenizer):
    """jieba precise mode over the search form, ordinal positions, real offsets."""

    def _count(self, text: str) -> Counter:
        return Counter(
            w for w, _, _ in word_tokens(for_search(text), jieba_for(self.version, self.terms))
        )

    def __call__(
        self,
        value,
        positions=False,
        chars=False,
        keeporiginal=False,
        removestops=True,
        start_pos=0,
        start_char=0,
        tokenize=True,
        mode="",
        **kwargs,
    ) -> Iterator[Token]:
        norm = for_search("\n".join(_value_parts(value)))
        items = word_tokens(norm, jieba_for(self.version, self.terms))
        return self._emit(
            items, positions, chars, start_pos, start_char, removestops=removestops, mode=mode
        )


class GramTokenizer(_Counting, _BaseTokenizer):
    """Bigrams of punctuation-blind segments plus each segment's last character (module doc)."""

    def _count(self, text: str) -> Counter:
        return Counter(gram_terms(for_search(text)))

    def __call__(
        self,
        value,
        positions=False,
        chars=False,
        keeporiginal=False,
        removestops=True,
        start_pos=0,
        start_char=0,
        tokenize=True,
        mode="",
        **kwargs,
    ) -> Iterator[Token]:
        norm = for_search("\n".join(_value_parts(value)))
        items, lasts = [], []
        for s, offs in segments(norm):
            items.extend((s[i : i + 2], offs[i], offs[i + 1] + 1) for i in range(len(s) - 1))
            lasts.append((s[-1], offs[-1], offs[-1] + 1))
        firsts = {t[0][0] for t in items}
        for item in lasts:
            if item[0] not in firsts:
                firsts.add(item[0])
                items.append(item)
        return self._emit(
            items, positions, chars, start_pos, start_char, removestops=removestops, mode=mode
        )


_PACKED = [pack_uint(i) for i in range(256)]


class CountedFrequency(Frequency):
    """Frequency postings computed from the tokenizer's ``counts()`` in one C-speed Counter
    instead of one Python step per token (the per-token loop is a large share of build time)."""

    def word_values(self, value, analyzer, **kwargs):
        counts = getattr(analyzer, "counts", None)
        if counts is None:
            yield from super().word_values(value, analyzer, **kwargs)
            return
        fb = self.field_boost
        for w, n in counts(value).items():
            yield w, n, n * fb, _PACKED[n] if n < 256 else pack_uint(n)

    def index_items(self, value, analyzer) -> list[tuple[bytes, int, float, bytes]]:
        """``Field.index()`` in one list comprehension: (term bytes, freq, weight, value)."""
        fb = self.field_boost
        return [
            (w.encode("utf-8"), n, n * fb, _PACKED[n] if n < 256 else pack_uint(n))
            for w, n in analyzer.counts(value).items()
        ]


class CountedExistence(Existence):
    """Existence postings (doc numbers only: no frequencies, no weights) from the tokenizer's
    ``counts()``: the gram field is never scored, only intersected, so a frequency per
    posting would be written and never read."""

    def word_values(self, value, analyzer, **kwargs):
        counts = getattr(analyzer, "counts", None)
        if counts is None:
            yield from super().word_values(value, analyzer, **kwargs)
            return
        fb = self.field_boost
        for w, n in counts(value).items():
            yield w, n, fb, b""

    def index_items(self, value, analyzer) -> list[tuple[bytes, int, float, bytes]]:
        fb = self.field_boost
        return [(w.encode("utf-8"), n, fb, b"") for w, n in analyzer.counts(value).items()]


__all__ = [
    "register_vocabulary",
    "jieba_for",
    "tokenizer_for",
    "runs",
    "segments",
    "segment_texts",
    "gram_terms",
    "word_tokens",
    "words",
    "is_latin",
    "WordTokenizer",
    "GramTokenizer",
    "CountedFrequency",
    "CountedExistence",
]
