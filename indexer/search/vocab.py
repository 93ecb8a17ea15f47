"""The search vocabulary: our domain dictionary for word segmentation and the synonyms applied
at query time. This is the file model only; a backend turns ``word_freqs()`` into its tokenizer
(the Whoosh backend: ``indexer.search.whoosh.jieba_words.tokenizer_for``).

Packaged data lives in ``indexer/data/dictionary.txt`` (one term a line, optionally followed by
a frequency) and ``indexer/data/synonyms.txt`` (one group a line, forms separated by `` = ``,
the first form canonical). A library home may hold the editors' changes:

* ``home/dictionary.txt`` — ``+词`` (or ``+词 频率``, or a bare ``词``) adds a term, ``-词``
  removes one (a packaged term too);
* ``home/synonyms.txt`` — ``甲 = 乙 = 丙`` (or ``+甲 = 乙``) adds a group, ``-词`` removes the
  group containing that word. Lines apply in order.

Groups that share a form are merged (synonymy is transitive); the merged group keeps the
canonical form of the group that came first. Lines that cannot be used are skipped and noted in
``Vocabulary.warnings``; a bad editor file never stops the search.

Expansion applies to whole query terms only: :meth:`Vocabulary.expand` looks the typed term up
as a whole (after NFKC + casefold, ignoring white space). It does not rewrite substrings: the
character-level field already finds any string inside longer text.

``version`` is a sha256 over the terms (with frequencies) and the groups; the index records it,
so any dictionary or synonym change marks the index stale.
"""

from __future__ import annotations

import bisect
import hashlib
import os
import re
import tempfile
from collections.abc import Iterable
from functools import lru_cache
from importlib import resources
from pathlib import Path

from indexer.ingest.normalize import display_line, for_search
from library.errors import UsageError

DICTIONARY_FILE = "dictionary.txt"
SYNONYMS_FILE = "synonyms.txt"
_FORMAT = "lecturelib-vocab/1"  # bump when the way terms reach jieba changes
_SEP = re.compile(r"\s+=\s+|\s*＝\s*|(?<=\S)=(?=\S)")
# Characters jieba keeps inside one block (its re_han_default); a term with anything else
# could never come out of the tokenizer as one token.
_TERM_CHARS = re.compile(r"^[\u4e00-\u9fd5a-z0-9+#&._%\-]+$")
_MAX_TERM = 40


@lru_cache(maxsize=65536)
def search_key(text: str) -> str:
    """The form vocabulary entries are compared in: NFKC + casefold, white space removed.
    Cached: merging the synonym groups compares every form with every group (28k calls for
    127 groups), which made loading the vocabulary 0.19 s of a cold CLI search."""
    return re.sub(r"\s+", "", for_search(text))


_key = search_key


def term_freq(term: str) -> int:
    """The jieba frequency that makes a dictionary term win over the ways jieba could split it,
    also inside a sentence. It grows with length (a longer term must beat a product of more
    pieces). Measured on the packaged dictionary, each term between every pair of 20 common
    characters: 2,000 × length still let one term be split (民兵 in 人民兵家), 20,000 × length
    none; we use 50,000 × length for a margin. The tokenizer's total is left unchanged, so
    ordinary text is cut as before except where our terms occur."""
    return 50_000 * max(1, len(term))


def _clean_term(word: str) -> str:
    """A term in display form, or UsageError saying why it cannot be a dictionary term."""
    term = display_line(str(word)).strip()
    if not term:
        raise UsageError("词条不能为空。", "请输入要加入词典的词语。")
    if len(term) > _MAX_TERM:
        raise UsageError(f"词条“{term[:12]}…”太长。", f"词条最多 {_MAX_TERM} 个字。")
    if not _TERM_CHARS.match(for_search(term)):
        raise UsageError(
            f"词条“{term}”含有空格或标点。",
            "词条只能由汉字、字母和数字组成；带标点的说法请加为同义词。",
        )
    return term


def _parse_freq(text: str) -> int:
    try:
        freq = int(text)
    except ValueError:
        freq = 0
    if freq <= 0:
        raise UsageError(f"词频“{text}”不是正整数。", "词条后的词频可以省略；要写就写正整数。")
    return freq


def _clean_form(word: str) -> str:
    form = display_line(str(word)).strip()
    if not form:
        raise UsageError("同义词不能为空。", "每组同义词至少要有两个不同的说法。")
    if "=" in form or "＝" in form:
        raise UsageError(
            f"同义词“{form}”含有等号。", "同义词之间用“ = ”分隔，单个说法里不能有等号。"
        )
    return form


def _write_atomic(path: Path, text: str) -> None:
    path.parent.mkdir(parents=True, exist_ok=True)
    fd, tmp = tempfile.mkstemp(prefix=path.name, suffix=".tmp", dir=path.parent)
    try:
        with os.fdopen(fd, "w", encoding="utf-8", newline="\n") as f:
            f.write(text)
        os.replace(tmp, path)
    except BaseException:
        Path(tmp).unlink(missing_ok=True)
        raise


def _content_lines(text: str):
    for n, line in enumerate(text.splitlines(), 1):
        line = line.strip().lstrip("\ufeff")
        if line and not line.startswith("#"):
            yield n, line


_ORDINALS = ["十五", "十六", "十七", "十八", "十九", "二十", "二十一"]
_PLENARY = ["一", "二", "三", "四", "五", "六", "七"]


def party_meeting_groups() -> list[list[str]]:
    """Abbreviations of the Party's congresses and plenary sessions and the full names that 出处
    lines use, so that 二十大 finds “中国共产党第二十次全国代表大会” and 二十届三中全会 finds
    “中国共产党第二十届中央委员会第三次全体会议” (and the other way round)."""
    groups = []
    for n in _ORDINALS:
        groups.append(
            [
                f"{n}大",
                f"党的{n}大",
                f"中共{n}大",
                f"党的第{n}次全国代表大会",
                f"中国共产党第{n}次全国代表大会",
                f"中共第{n}次全国代表大会",
            ]
        )
        for k in _PLENARY:
            groups.append(
                [
                    f"{n}届{k}中全会",
                    f"党的{n}届{k}中全会",
                    f"中共{n}届{k}中全会",
                    f"{n}届中央委员会第{k}次全体会议",
                    f"党的第{n}届中央委员会第{k}次全体会议",
                    f"中国共产党第{n}届中央委员会第{k}次全体会议",
                ]
            )
    return groups


class Vocabulary:
    """Dictionary terms and synonym groups: packaged data plus one library home's edits."""

    def __init__(
        self,
        packaged_terms: dict[str, int | None],
        packaged_groups: list[list[str]],
        home: Path | None = None,
    ):
        self.home = Path(home) if home is not None else None
        self.warnings: list[str] = []
        self._packaged_terms = packaged_terms
        self._packaged_groups = packaged_groups
        self._added: dict[str, int | None] = {}
        self._removed: dict[str, str] = {}  # key -> term as typed
        self._syn_ops: list[tuple[str, list[str]]] = []  # ("+", forms) | ("-", [word])
        self._read_home()
        self._refresh()

    # --- loading ------------------------------------------------------------------------

    @classmethod
    def load(cls, home: Path | None = None) -> Vocabulary:
        """The packaged vocabulary plus the editor files of ``home`` (when given)."""
        data = resources.files("indexer").joinpath("data")
        warnings: list[str] = []
        terms = _parse_terms(
            data.joinpath(DICTIONARY_FILE).read_text(encoding="utf-8"), DICTIONARY_FILE, warnings
        )
        groups = _parse_groups(
            data.joinpath(SYNONYMS_FILE).read_text(encoding="utf-8"), SYNONYMS_FILE, warnings
        )
        groups += party_meeting_groups()
        vocab = cls(terms, groups, home)
        vocab.warnings[:0] = warnings
        return vocab

    def _read_home(self) -> None:
        if self.home is None:
            return
        dpath = self.home / DICTIONARY_FILE
        if dpath.is_file():
            for n, line in _content_lines(dpath.read_text(encoding="utf-8")):
                sign, body = (line[0], line[1:].strip()) if line[0] in "+-" else ("+", line)
                parts = body.split()
                try:
                    term = _clean_term(parts[0] if parts else "")
                    freq = _parse_freq(parts[1]) if sign == "+" and len(parts) > 1 else None
                except UsageError as e:
                    self.warnings.append(f"{dpath.name} 第 {n} 行无法使用：{e}")
                    continue
                if sign == "+":
                    self._removed.pop(_key(term), None)
                    self._added[term] = freq
                else:
                    self._added.pop(term, None)
                    self._removed[_key(term)] = term
        spath = self.home / SYNONYMS_FILE
        if spath.is_file():
            for n, line in _content_lines(spath.read_text(encoding="utf-8")):
                if line[0] == "-":
                    word = line[1:].strip()
                    if word:
                        self._syn_ops.append(("-", [word]))
                    continue
                forms = _split_group(line.lstrip("+"), f"{spath.name} 第 {n} 行", self.warnings)
                if forms:
                    self._syn_ops.append(("+", forms))

    # --- derived state ------------------------------------------------------------------

    def _refresh(self) -> None:
        entries: dict[str, int | None] = {}
        for term, freq in self._packaged_terms.items():
            if _key(term) not in self._removed:
                entries[term] = freq
        seen = {_key(t) for t in entries}
        for term, freq in self._added.items():
            k = _key(term)
            if k in seen:
                if freq is not None:
                    entries[next(t for t in entries if _key(t) == k)] = freq
                continue
            seen.add(k)
            entries[term] = freq
        self._entries = entries
        self.terms: list[str] = list(entries)

        groups: list[list[str]] = []
        for forms in self._packaged_groups:
            _merge_group(groups, forms)
        for op, forms in self._syn_ops:
            if op == "+":
                _merge_group(groups, forms)
            else:
                k = _key(forms[0])
                groups[:] = [g for g in groups if k not in {_key(f) for f in g}]
        self.synonym_groups: list[list[str]] = groups
        self._group_of = {_key(f): g for g in groups for f in g}

        words: dict[str, str] = {}
        for w in [*self.terms, *(f for g in groups for f in g)]:
            words.setdefault(_key(w), w)
        self._prefix_keys = sorted(words)
        self._prefix_words = [words[k] for k in self._prefix_keys]
        self._rank = {w: i for i, w in enumerate(words.values())}

        h = hashlib.sha256()
        h.update(_FORMAT.encode())
        for term in sorted(entries):
            h.update(f"\nT {term} {entries[term] if entries[term] is not None else ''}".encode())
        for line in sorted(" = ".join(g) for g in groups):
            h.update(f"\nS {line}".encode())
        self.version: str = h.hexdigest()

    # --- queries ------------------------------------------------------------------------

    def expand(self, text: str) -> list[str]:
        """``text`` first, then every other form of its synonym group (none if it has none)."""
        group = self._group_of.get(_key(text))
        if not group:
            return [text]
        k = _key(text)
        return [text, *(f for f in group if _key(f) != k)]

    def canonical(self, text: str) -> str:
        """The canonical form of text's synonym group, or text itself."""
        group = self._group_of.get(_key(text))
        return group[0] if group else text

    def prefix_terms(self, prefix: str, limit: int = 10) -> list[str]:
        """Dictionary terms and synonym forms starting with prefix, shortest first."""
        p = _key(prefix)
        if not p or limit <= 0:
            return []
        i = bisect.bisect_left(self._prefix_keys, p)
        found = []
        while i < len(self._prefix_keys) and self._prefix_keys[i].startswith(p):
            found.append(self._prefix_words[i])
            i += 1
        found.sort(key=lambda w: (len(w), self._rank[w]))
        return found[:limit]

    def word_freqs(self) -> dict[str, int]:
        """Every word the tokenizer learns, with its frequency (display and search forms)."""
        out: dict[str, int] = {}
        for term, freq in self._entries.items():
            f = freq if freq is not None else term_freq(term)
            for form in (term, for_search(term)):
                out[form] = f
        return out

    def __contains__(self, word: str) -> bool:
        k = _key(word)
        return any(_key(t) == k for t in self.terms)

    # --- editing --------------------------------------------------------------------------

    def add_terms(self, words: Iterable[str]) -> list[str]:
        """Add terms (persisted to home/dictionary.txt). Returns the terms that were new."""
        cleaned = [_clean_term(w) for w in _as_list(words)]
        current = {_key(t) for t in self.terms}
        added = []
        for term in cleaned:
            k = _key(term)
            if k in current:
                continue
            current.add(k)
            if self._removed.pop(k, None) is None or not any(
                _key(t) == k for t in self._packaged_terms
            ):
                self._added[term] = None
            added.append(term)
        if added:
            self._refresh()
            self._save_terms()
        return added

    def remove_terms(self, words: Iterable[str]) -> list[str]:
        """Remove terms (persisted). Returns the terms that were removed; unknown words are
        ignored."""
        removed = []
        for w in _as_list(words):
            k = _key(display_line(str(w)))
            match = next((t for t in self.terms if _key(t) == k), None)
            if match is None:
                continue
            for t in [t for t in self._added if _key(t) == k]:
                del self._added[t]
            if any(_key(t) == k for t in self._packaged_terms):
                self._removed[k] = match
            removed.append(match)
            self._refresh()
        if removed:
            self._save_terms()
        return removed

    def add_synonyms(self, group: Iterable[str]) -> list[str]:
        """Add a synonym group (merged with any group sharing a form; persisted). Returns the
        resulting group."""
        forms = [_clean_form(f) for f in _as_list(group)]
        distinct = _dedupe(forms)
        if len(distinct) < 2:
            raise UsageError("同义词组至少要有两个不同的说法。", "例如：二十大 = 党的二十大")
        self._syn_ops.append(("+", distinct))
        self._refresh()
        self._save_synonyms()
        return self._group_of[_key(distinct[0])]

    def remove_synonym_group(self, word: str) -> list[str]:
        """Remove the group containing word (persisted). Returns the removed group, or [] when
        no group contains the word."""
        k = _key(display_line(str(word)))
        group = self._group_of.get(k)
        if not group:
            return []
        keys = {_key(f) for f in group}
        self._syn_ops = [
            (op, fs) for op, fs in self._syn_ops if not (op == "+" and keys & {_key(f) for f in fs})
        ]
        self._refresh()
        if k in self._group_of:  # packaged data still defines it
            self._syn_ops.append(("-", [display_line(str(word))]))
            self._refresh()
        self._save_synonyms()
        return group

    def _save_terms(self) -> None:
        if self.home is None:
            return
        lines = ["# 编辑添加（+）或删除（-）的词条，由 lecturelib 维护。"]
        for term, freq in self._added.items():
            lines.append(f"+{term}" + (f" {freq}" if freq is not None else ""))
        lines += [f"-{t}" for t in self._removed.values()]
        _write_atomic(self.home / DICTIONARY_FILE, "\n".join(lines) + "\n")

    def _save_synonyms(self) -> None:
        if self.home is None:
            return
        lines = ["# 编辑添加的同义词组（甲 = 乙）与删除的组（-词），由 lecturelib 维护。"]
        for op, forms in self._syn_ops:
            lines.append(" = ".join(forms) if op == "+" else f"-{forms[0]}")
        _write_atomic(self.home / SYNONYMS_FILE, "\n".join(lines) + "\n")


# --- helpers -----------------------------------------------------------------------------


def _as_list(words) -> list[str]:
    return [words] if isinstance(words, str) else list(words)


def _dedupe(forms: list[str]) -> list[str]:
    out, seen = [], set()
    for f in forms:
        k = _key(f)
        if k and k not in seen:
            seen.add(k)
            out.append(f)
    return out


def _merge_group(groups: list[list[str]], forms: list[str]) -> None:
    keys = {_key(f) for f in forms}
    hits = [i for i, g in enumerate(groups) if keys & {_key(f) for f in g}]
    if not hits:
        groups.append(_dedupe(forms))
        return
    merged = _dedupe([f for i in hits for f in groups[i]] + forms)
    groups[hits[0]] = merged
    for i in reversed(hits[1:]):
        del groups[i]


def _split_group(line: str, where: str, warnings: list[str]) -> list[str] | None:
    try:
        forms = _dedupe([_clean_form(f) for f in _SEP.split(line.strip())])
    except UsageError as e:
        warnings.append(f"{where}无法使用：{e}")
        return None
    if len(forms) < 2:
        warnings.append(f"{where}无法使用：同义词组至少要有两个不同的说法。")
        return None
    return forms


def _parse_terms(text: str, name: str, warnings: list[str]) -> dict[str, int | None]:
    terms: dict[str, int | None] = {}
    for n, line in _content_lines(text):
        parts = line.split()
        try:
            term = _clean_term(parts[0])
            freq = _parse_freq(parts[1]) if len(parts) > 1 else None
        except UsageError as e:
            warnings.append(f"{name} 第 {n} 行无法使用：{e}")
            continue
        terms[term] = freq
    return terms


def _parse_groups(text: str, name: str, warnings: list[str]) -> list[list[str]]:
    groups = []
    for n, line in _content_lines(text):
        forms = _split_group(line, f"{name} 第 {n} 行", warnings)
        if forms:
            groups.append(forms)
    return groups


__all__ = ["Vocabulary", "search_key", "term_freq", "DICTIONARY_FILE", "SYNONYMS_FILE"]
