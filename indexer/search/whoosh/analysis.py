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

Whoosh stores the analyzers inside the index, pickled; they hold only the vocabulary's version
and terms and build their jieba tokenizer lazily, once per process (so each worker process of a
parallel rebuild segments its own share of the text).
"""

from __future__ import annotations

import math
import re
from collections import Counter
from typing import Iterator

from whoosh.analysis import Token, Tokenizer
from whoosh.formats import Existence, Frequency
from whoosh.system import pack_uint

from indexer.ingest.normalize import for_search

# A run of alphanumeric characters (\w minus the underscore), in the search form.
_RUN = re.compile(r"[^\W_]+")
# Latin letters and digits (after NFKC + casefold).
_LATIN = re.compile(r"[a-z0-9]")

# Vocabulary objects registered by the engine, by version: an analyzer unpickled in this
# process (or inherited through fork by a worker) uses the live vocabulary's tokenizer.
_VOCABS: dict[str, object] = {}
_TOKENIZERS: dict[str, object] = {}


def register_vocabulary(vocab) -> None:
    """Make ``vocab`` the source of the jieba tokenizer for analyzers of its version."""
    _VOCABS[vocab.version] = vocab


def jieba_for(version: str, terms: tuple[str, ...] = ()):
    """The jieba tokenizer for a vocabulary version (cached per process)."""
    tok = _TOKENIZERS.get(version)
    if tok is None:
        vocab = _VOCABS.get(version)
        if vocab is not None:
            tok = vocab.jieba_tokenizer()
        else:
            import jieba
            import logging

            jieba.setLogLevel(logging.WARNING)
            tok = jieba.Tokenizer()
            for t in terms:
                tok.add_word(t)
        _TOKENIZERS[version] = tok
    return tok


# ---------------------------------------------------------------------------------------------
# plain functions (used by the engine at query time and for highlights)

def runs(norm: str) -> list[tuple[str, int]]:
    """Alphanumeric runs of a search-form text with their start offsets."""
    return [(m.group(), m.start()) for m in _RUN.finditer(norm)]


def segments(norm: str) -> list[tuple[str, list[int]]]:
    """Punctuation-blind segments of a search-form text: its alphanumeric runs joined across
    the punctuation, spaces and line breaks between them (“雄鹰”企业 → 雄鹰企业), except where
    both neighbours are Latin letters or digits (``covid-19``, ``open ai`` stay apart). Each
    segment comes with the offset in ``norm`` of each of its characters."""
    out: list[tuple[str, list[int]]] = []
    chars: list[str] = []
    offs: list[int] = []
    for m in _RUN.finditer(norm):
        s, base = m.group(), m.start()
        if chars and _LATIN.match(chars[-1][-1]) and _LATIN.match(s[0]):
            out.append(("".join(chars), offs))
            chars, offs = [], []
        chars.append(s)
        offs.extend(range(base, base + len(s)))
    if chars:
        out.append(("".join(chars), offs))
    return out


def segment_texts(norm: str) -> list[str]:
    """The strings of :func:`segments` (no offsets): the gram field's units."""
    out: list[str] = []
    cur = ""
    for s in _RUN.findall(norm):
        if cur and _LATIN.match(cur[-1]) and _LATIN.match(s[0]):
            out.append(cur)
            cur = s
        else:
            cur += s
    if cur:
        out.append(cur)
    return out


def gram_terms(norm: str) -> list[str]:
    """The gram-field terms of a search-form text: bigrams of each punctuation-blind segment
    (:func:`segments`), plus the last character of a segment alone when no bigram of the text
    starts with it (so that every character of the text begins some term, which is all a
    one-character prefix query needs)."""
    out: list[str] = []
    lasts = []
    for s in segment_texts(norm):
        out.extend([s[i:i + 2] for i in range(len(s) - 1)])
        lasts.append(s[-1])
    firsts = {g[0] for g in out}
    out.extend(c for c in dict.fromkeys(lasts) if c not in firsts)
    return out


# jieba's own block pattern (jieba.re_han_default): jieba cuts each such block on its own,
# and every other character is a token by itself.
_JIEBA_BLOCK = re.compile("[\u4E00-\u9FD5a-zA-Z0-9+#&\\._%\\-]+")
_ALNUM_CHAR = re.compile(r"[^\W_]")
_BLOCK_CACHE_MAX = 100_000


_ENG = re.compile("[a-zA-Z0-9]")        # jieba.re_eng


def _cut_no_hmm(block: str, tokenizer) -> list[str]:
    """``tokenizer.cut(block, HMM=False)`` for one jieba block, computed the same way (the
    dictionary DAG, the max-probability route with ties to the longer word, runs of single
    Latin letters and digits joined) with the same floating-point operations, in one pass
    without the DAG dictionary and with log-frequencies cached per tokenizer: about twice as
    fast. Tokenizers that are not jieba's fall back to their own ``cut``."""
    freq = getattr(tokenizer, "FREQ", None)
    if not isinstance(freq, dict) or not type(tokenizer).__module__.startswith("jieba"):
        return list(tokenizer.cut(block, HMM=False))
    tokenizer.check_initialized()
    freq = tokenizer.FREQ
    logs = tokenizer.__dict__.get("_lecturelib_logs")
    if logs is None:
        logs = tokenizer.__dict__["_lecturelib_logs"] = {}
    logtotal = math.log(tokenizer.total)
    n = len(block)
    score = [0.0] * (n + 1)
    nxt = [0] * (n + 1)
    for idx in range(n - 1, -1, -1):
        best_s = best_x = None
        i = idx
        frag = block[idx]
        found = False
        while i < n and frag in freq:
            if freq[frag]:
                found = True
                lp = logs.get(frag)
                if lp is None:
                    lp = logs[frag] = math.log(freq[frag]) - logtotal
                s = lp + score[i + 1]
                if best_s is None or s > best_s or (s == best_s and i > best_x):
                    best_s, best_x = s, i
            i += 1
            frag = block[idx:i + 1]
        if not found:
            ch = block[idx]
            lp = logs.get(ch)
            if lp is None:
                lp = logs[ch] = math.log(freq.get(ch) or 1) - logtotal
            best_s, best_x = lp + score[idx + 1], idx
        score[idx], nxt[idx] = best_s, best_x
    out: list[str] = []
    x = 0
    buf = ""
    while x < n:
        y = nxt[x] + 1
        word = block[x:y]
        if len(word) == 1 and _ENG.match(word):
            buf += word
        else:
            if buf:
                out.append(buf)
                buf = ""
            out.append(word)
        x = y
    if buf:
        out.append(buf)
    return out


def _cut_block(block: str, tokenizer) -> tuple:
    """Kept (word, start, end) of one jieba block, offsets relative to the block; cached per
    tokenizer (a tokenizer belongs to one vocabulary version and is never changed after use).
    Headlines, boilerplate and formulaic clauses repeat: a quarter of the blocks of the news
    corpus are segmented again otherwise."""
    cache = tokenizer.__dict__.get("_lecturelib_blocks")
    if cache is None:
        cache = tokenizer.__dict__["_lecturelib_blocks"] = {}
    hit = cache.get(block)
    if hit is None:
        out, start = [], 0
        for w in _cut_no_hmm(block, tokenizer):
            end = start + len(w)
            if _RUN.search(w):
                w = w.strip()
                if w:
                    out.append((w, start, end))
            start = end
        if len(cache) >= _BLOCK_CACHE_MAX:
            cache.clear()
        hit = cache[block] = tuple(out)
    return hit


def word_tokens(norm: str, tokenizer) -> list[tuple[str, int, int]]:
    """(word, start, end) for each kept jieba token of a search-form text; offsets are real
    character offsets into ``norm``. Tokens without any alphanumeric character are dropped.
    Same tokens as ``tokenizer.tokenize(norm, HMM=False)``, computed block by block."""
    out: list[tuple[str, int, int]] = []
    pos = 0
    for m in _JIEBA_BLOCK.finditer(norm):
        s = m.start()
        if s > pos:
            out.extend((c.group(), c.start(), c.end())
                       for c in _ALNUM_CHAR.finditer(norm, pos, s))
        out.extend([(w, s + a, s + b) for w, a, b in _cut_block(m.group(), tokenizer)])
        pos = m.end()
    if pos < len(norm):
        out.extend((c.group(), c.start(), c.end()) for c in _ALNUM_CHAR.finditer(norm, pos))
    return out


def _value_parts(value) -> tuple[str, ...]:
    return (value,) if isinstance(value, str) else tuple(value)


def words(text: str, tokenizer) -> list[str]:
    """The word-field terms of a display text."""
    return [w for w, _, _ in word_tokens(for_search(text), tokenizer)]


def is_latin(ch: str) -> bool:
    return bool(_LATIN.match(ch))


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
        return Counter(w for w, _, _ in word_tokens(for_search(text),
                                                    jieba_for(self.version, self.terms)))

    def __call__(self, value, positions=False, chars=False, keeporiginal=False,
                 removestops=True, start_pos=0, start_char=0, tokenize=True, mode="",
                 **kwargs) -> Iterator[Token]:
        norm = for_search("\n".join(_value_parts(value)))
        items = word_tokens(norm, jieba_for(self.version, self.terms))
        return self._emit(items, positions, chars, start_pos, start_char,
                          removestops=removestops, mode=mode)


class GramTokenizer(_Counting, _BaseTokenizer):
    """Bigrams of punctuation-blind segments plus each segment's last character (module doc)."""

    def _count(self, text: str) -> Counter:
        return Counter(gram_terms(for_search(text)))

    def __call__(self, value, positions=False, chars=False, keeporiginal=False,
                 removestops=True, start_pos=0, start_char=0, tokenize=True, mode="",
                 **kwargs) -> Iterator[Token]:
        norm = for_search("\n".join(_value_parts(value)))
        items, lasts = [], []
        for s, offs in segments(norm):
            items.extend((s[i:i + 2], offs[i], offs[i + 1] + 1) for i in range(len(s) - 1))
            lasts.append((s[-1], offs[-1], offs[-1] + 1))
        firsts = {t[0][0] for t in items}
        for item in lasts:
            if item[0] not in firsts:
                firsts.add(item[0])
                items.append(item)
        return self._emit(items, positions, chars, start_pos, start_char,
                          removestops=removestops, mode=mode)


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
        return [(w.encode("utf-8"), n, n * fb, _PACKED[n] if n < 256 else pack_uint(n))
                for w, n in analyzer.counts(value).items()]


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


__all__ = ["register_vocabulary", "jieba_for", "runs", "segments", "segment_texts", "gram_terms", "word_tokens", "words",
           "is_latin", "WordTokenizer", "GramTokenizer", "CountedFrequency",
           "CountedExistence"]
