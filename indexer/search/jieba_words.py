"""jieba, ours: the word segmentation every search backend shares (the word field and ranking
of the Whoosh backend; the word tsvector of the PostgreSQL one). The one module that touches
jieba's internals (an import-linter contract says so).

* :func:`tokenizer_for` builds a private ``jieba.Tokenizer`` with the vocabulary's terms (the
  dictionary file model lives in ``indexer.search.vocab``), cached per vocabulary version; the
  global ``jieba.dt`` is never touched.
* :func:`word_tokens` cuts a search-form text the way ``tokenizer.tokenize(norm, HMM=False)``
  does, re-implementing jieba's DAG route in one pass (about twice as fast; the equivalence tests
  in tests/test_analysis.py guard it).
"""

from __future__ import annotations

import math
import re
import threading
from typing import TYPE_CHECKING

from indexer.ingest.normalize import for_search
from indexer.search.text import _RUN

if TYPE_CHECKING:  # pragma: no cover
    import jieba

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
            tok = tokenizer_for(vocab)
        else:
            import logging

            import jieba

            jieba.setLogLevel(logging.WARNING)
            tok = jieba.Tokenizer()
            for t in terms:
                tok.add_word(t)
        _TOKENIZERS[version] = tok
    return tok


_BUILT: dict[str, jieba.Tokenizer] = {}
_BUILT_LOCK = threading.Lock()
_MAX_CACHED = 4


def tokenizer_for(vocab) -> jieba.Tokenizer:
    """A private ``jieba.Tokenizer`` with the vocabulary's terms added (``vocab.word_freqs()``),
    built on first use and cached per vocabulary version (the global ``jieba.dt`` is never
    touched)."""
    tok = _BUILT.get(vocab.version)
    if tok is not None:
        return tok
    with _BUILT_LOCK:
        tok = _BUILT.get(vocab.version)
        if tok is None:
            tok = _build_tokenizer(vocab.word_freqs())
            while len(_BUILT) >= _MAX_CACHED:
                _BUILT.pop(next(iter(_BUILT)))
            _BUILT[vocab.version] = tok
    return tok


def _build_tokenizer(freqs: dict[str, int]) -> jieba.Tokenizer:
    import jieba

    jieba.setLogLevel(60)
    tok = jieba.Tokenizer()
    tok.initialize()
    total = tok.total
    for word, freq in freqs.items():
        tok.add_word(word, max(1, freq))
    # add_word adds every frequency to the total, which would lower the probability of every
    # other word and change how ordinary text is cut. Our terms are additions, not a corpus.
    tok.total = total
    return tok


def dictionary_words(text: str, vocab) -> list[str]:
    """``text`` cut into the vocabulary's words (jieba precise mode, no HMM), as typed."""
    return list(tokenizer_for(vocab).cut(text, HMM=False))


# jieba's own block pattern (jieba.re_han_default): jieba cuts each such block on its own,
# and every other character is a token by itself.
_JIEBA_BLOCK = re.compile("[\u4e00-\u9fd5a-zA-Z0-9+#&\\._%\\-]+")
_ALNUM_CHAR = re.compile(r"[^\W_]")
_BLOCK_CACHE_MAX = 100_000


_ENG = re.compile("[a-zA-Z0-9]")  # jieba.re_eng


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
            frag = block[idx : i + 1]
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
            out.extend((c.group(), c.start(), c.end()) for c in _ALNUM_CHAR.finditer(norm, pos, s))
        out.extend([(w, s + a, s + b) for w, a, b in _cut_block(m.group(), tokenizer)])
        pos = m.end()
    if pos < len(norm):
        out.extend((c.group(), c.start(), c.end()) for c in _ALNUM_CHAR.finditer(norm, pos))
    return out


def words(text: str, tokenizer) -> list[str]:
    """The word-field terms of a display text."""
    return [w for w, _, _ in word_tokens(for_search(text), tokenizer)]


__all__ = [
    "tokenizer_for",
    "register_vocabulary",
    "jieba_for",
    "word_tokens",
    "words",
    "dictionary_words",
]
