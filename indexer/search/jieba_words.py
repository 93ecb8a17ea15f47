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

import contextlib
import math
import os
import re
import sqlite3
import threading
from pathlib import Path
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


def tokenizer_for(vocab, *, bulk: bool = False):
    """A private tokenizer with the vocabulary's terms added (``vocab.word_freqs()``), cached
    per vocabulary version (the global ``jieba.dt`` is never touched).

    Loading jieba's dictionary takes 0.55 s (its marshal cache of 498k entries), most of a cold
    ``lecturelib search``. So the first full tokenizer of a vocabulary version also writes its
    frequency table to a small SQLite file in the user's cache, and later processes that only
    cut queries open a :class:`LazyTokenizer` on it (a few ms; each lookup memoized). Bulk
    indexing (``bulk=True``: millions of lookups) always gets the full in-memory tokenizer, and
    from then on this process's searches use it too. Both cut text identically
    (tests/test_analysis.py)."""
    tok = _BUILT.get(vocab.version)
    if tok is not None and not (bulk and isinstance(tok, LazyTokenizer)):
        return tok
    with _BUILT_LOCK:
        tok = _BUILT.get(vocab.version)
        if tok is None or (bulk and isinstance(tok, LazyTokenizer)):
            tok = None if bulk else LazyTokenizer.open(vocab.version)
            if tok is None:
                tok = _build_tokenizer(vocab.word_freqs())
                _save_freqs(vocab.version, tok)
            while len(_BUILT) >= _MAX_CACHED:
                _BUILT.pop(next(iter(_BUILT)))
            _BUILT[vocab.version] = tok
            if bulk or vocab.version in _TOKENIZERS:
                _TOKENIZERS[vocab.version] = tok
    return tok


def bulk_mode() -> None:
    """Before analysing much text: the full in-memory tokenizer for every registered
    vocabulary (a lazy one would look up millions of fragments on disk)."""
    for vocab in list(_VOCABS.values()):
        tokenizer_for(vocab, bulk=True)


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


# -- the frequency table on disk ------------------------------------------------------------

_FREQ_FORMAT = 1


def _freq_path(version: str) -> Path | None:
    """Where the frequency table of a vocabulary version lives: the user's cache directory
    (``$LECTURELIB_CACHE``, else ``$XDG_CACHE_HOME/lecturelib``, else ``~/.cache/lecturelib``),
    keyed by jieba's version and ours; None where no cache directory can be made."""
    try:
        from importlib.metadata import version as dist_version

        jv = dist_version("jieba")
    except Exception:  # metadata missing: no cache rather than a stale one
        return None
    base = os.environ.get("LECTURELIB_CACHE")
    if not base:
        xdg = os.environ.get("XDG_CACHE_HOME") or os.path.join(os.path.expanduser("~"), ".cache")
        base = os.path.join(xdg, "lecturelib")
    try:
        Path(base).mkdir(parents=True, exist_ok=True)
    except OSError:
        return None
    return Path(base) / f"words-{_FREQ_FORMAT}-{jv}-{version[:20]}.sqlite3"


def _save_freqs(version: str, tok) -> None:
    """Write ``tok``'s frequency table once per version (atomically; errors only cost speed)."""
    path = _freq_path(version)
    if path is None or path.exists():
        return
    tmp = path.with_name(f"{path.name}.{os.getpid()}.tmp")
    try:
        con = sqlite3.connect(tmp)
        con.execute("CREATE TABLE f (w TEXT PRIMARY KEY, n INTEGER NOT NULL) WITHOUT ROWID")
        con.execute("CREATE TABLE meta (k TEXT PRIMARY KEY, v INTEGER NOT NULL)")
        con.executemany("INSERT INTO f VALUES (?, ?)", tok.FREQ.items())
        con.execute("INSERT INTO meta VALUES ('total', ?)", (int(tok.total),))
        con.commit()
        con.close()
        os.replace(tmp, path)
    except (OSError, sqlite3.Error):
        with contextlib.suppress(OSError):
            tmp.unlink()


class _LazyFreq(dict):
    """jieba's FREQ mapping read from the SQLite table on demand; answers are memoized (the
    dict itself holds the hits, a set the misses). A dict subclass, so jieba's own ``cut``
    and our DAG route use it unchanged."""

    def __init__(self, con: sqlite3.Connection):
        super().__init__()
        self._con = con
        self._lock = threading.Lock()
        self._missing: set[str] = set()

    def _load(self, key: str):
        if key in self._missing:
            return None
        with self._lock:
            row = self._con.execute("SELECT n FROM f WHERE w = ?", (key,)).fetchone()
        if row is None:
            if len(self._missing) > 1_000_000:
                self._missing.clear()
            self._missing.add(key)
            return None
        dict.__setitem__(self, key, row[0])
        return row[0]

    def __contains__(self, key) -> bool:
        return dict.__contains__(self, key) or self._load(key) is not None

    def __getitem__(self, key):
        if dict.__contains__(self, key):
            return dict.__getitem__(self, key)
        value = self._load(key)
        if value is None:
            raise KeyError(key)
        return value

    def get(self, key, default=None):
        if dict.__contains__(self, key):
            return dict.__getitem__(self, key)
        value = self._load(key)
        return default if value is None else value


_SKIP = re.compile(r"(\r\n|\s)")  # jieba.re_skip_default


class LazyTokenizer:
    """A tokenizer for queries: jieba's frequencies from the table on disk, jieba's precise-mode
    cut without HMM (the only mode lecturelib uses), no jieba import."""

    def __init__(self, con: sqlite3.Connection, total: int):
        self.FREQ = _LazyFreq(con)
        self.total = total
        self.initialized = True

    @classmethod
    def open(cls, version: str) -> LazyTokenizer | None:
        path = _freq_path(version)
        if path is None or not path.exists():
            return None
        try:
            con = sqlite3.connect(f"file:{path}?mode=ro", uri=True, check_same_thread=False)
            total = con.execute("SELECT v FROM meta WHERE k = 'total'").fetchone()[0]
        except (sqlite3.Error, TypeError):
            return None
        return cls(con, int(total))

    def check_initialized(self) -> None:
        pass

    def cut(self, sentence: str, cut_all: bool = False, HMM: bool = True):  # noqa: N803
        """``jieba.Tokenizer.cut(sentence, HMM=False)``: dictionary blocks by the DAG route,
        white space runs kept, every other character on its own."""
        pos = 0
        for m in _JIEBA_BLOCK.finditer(sentence):
            yield from self._other(sentence[pos : m.start()])
            yield from _cut_no_hmm(m.group(), self)
            pos = m.end()
        yield from self._other(sentence[pos:])

    @staticmethod
    def _other(text: str):
        for x in _SKIP.split(text):
            if not x:
                continue
            if _SKIP.match(x):
                yield x
            else:
                yield from x


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
    if not isinstance(freq, dict) or not (
        isinstance(tokenizer, LazyTokenizer) or type(tokenizer).__module__.startswith("jieba")
    ):
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
    "LazyTokenizer",
    "bulk_mode",
    "register_vocabulary",
    "jieba_for",
    "word_tokens",
    "words",
    "dictionary_words",
]
