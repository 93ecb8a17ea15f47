"""Topic suggestion: which of the ten 宣讲选题 a document or a quote belongs to.

Public surface::

    suggest(text, taxonomy, *, title="", k=2, model=None) -> list[TopicSuggestion]
    TopicModel.fit([(text, slug), ...]) -> TopicModel      # multinomial naive Bayes
    TopicModel.to_json() / TopicModel.from_json(text)

**Lexicon score.** Each topic's keywords (``topics.json``) and its own name are counted in the
text with ``str.count`` (no segmentation, so it is cheap enough for every quote). A keyword
weighs by length (2 characters: 1, 3: 1.5, 4 or more: 2; the topic name: 3); repeated hits
count sub-linearly (1 + ln n); hits in the title count three times. A topic's score is its
share of all keyword evidence times a saturation term ``1 - exp(-total / 4)``: one stray word
gives a low score, a paragraph full of one topic's vocabulary a score near 1.

**Naive Bayes.** Optional; jieba tokens of two or more characters, Laplace smoothing. Its
posterior is tempered (log-likelihoods divided by ``max(1, tokens / 10)``) so that long texts do
not give 0/1 certainties, then averaged with the lexicon score (so a text without any keyword
gets at most half the model's confidence).

A second suggestion is returned only when its score is at least half of the first.
"""

from __future__ import annotations

import json
import math
import re
import weakref
from collections import Counter
from collections.abc import Iterable

from library.content import TopicSuggestion
from library.taxonomy import Taxonomy

TITLE_WEIGHT = 3.0
NAME_WEIGHT = 3.0
SATURATION = 4.0
SECOND_RATIO = 0.5
MIN_SCORE = 0.05
NB_CHARS = 20000  # naive Bayes reads at most this many characters of a text
NB_WEIGHT = 0.5

_lexicons: weakref.WeakKeyDictionary[Taxonomy, list[tuple[str, list[tuple[str, float]]]]] = (
    weakref.WeakKeyDictionary()
)


def _weight(word: str) -> float:
    return 1.0 if len(word) <= 2 else 1.5 if len(word) == 3 else 2.0


def _lexicon(taxonomy: Taxonomy) -> list[tuple[str, list[tuple[str, float]]]]:
    lex = _lexicons.get(taxonomy)
    if lex is None:
        lex = []
        for t in taxonomy:
            words = {w.strip(): _weight(w.strip()) for w in t.keywords if w.strip()}
            words[t.name] = NAME_WEIGHT
            lex.append((t.slug, sorted(words.items())))
        _lexicons[taxonomy] = lex
    return lex


def lexicon_evidence(text: str, taxonomy: Taxonomy, title: str = "") -> dict[str, float]:
    """Raw keyword evidence per topic slug (only topics with at least one hit)."""
    out: dict[str, float] = {}
    for slug, words in _lexicon(taxonomy):
        total = 0.0
        for word, w in words:
            n = text.count(word)
            if n:
                total += w * (1.0 + math.log(n))
            if title and word in title:
                total += w * TITLE_WEIGHT
        if total:
            out[slug] = total
    return out


def lexicon_scores(text: str, taxonomy: Taxonomy, title: str = "") -> dict[str, float]:
    """Lexicon scores in 0..1 (share of evidence × saturation)."""
    ev = lexicon_evidence(text, taxonomy, title)
    total = sum(ev.values())
    if not total:
        return {}
    sat = 1.0 - math.exp(-total / SATURATION)
    return {slug: v / total * sat for slug, v in ev.items()}


# -- naive Bayes ---------------------------------------------------------------------------

_jieba = None
_TOKEN_OK = re.compile(r"[\u4e00-\u9fffA-Za-z]")


def _segmenter():
    global _jieba
    if _jieba is None:
        import jieba  # loaded on first use: importing indexer stays cheap

        jieba.setLogLevel(60)
        _jieba = jieba
    return _jieba


def tokens(text: str) -> list[str]:
    """jieba precise-mode words of two or more characters that contain a letter or CJK."""
    words = _segmenter().lcut(text[:NB_CHARS], HMM=False)
    return [w for w in words if len(w) >= 2 and _TOKEN_OK.search(w)]


class TopicModel:
    """Multinomial naive Bayes over jieba tokens, Laplace-smoothed."""

    def __init__(self, counts: dict[str, dict[str, int]], docs: dict[str, int]):
        self.counts = counts  # slug -> token -> count
        self.docs = docs  # slug -> number of training texts
        self.totals = {s: sum(c.values()) for s, c in counts.items()}
        vocab: set[str] = set()
        for c in counts.values():
            vocab.update(c)
        self.vocab_size = max(1, len(vocab))

    @classmethod
    def fit(cls, examples: Iterable[tuple[str, str]]) -> TopicModel:
        counts: dict[str, Counter] = {}
        docs: Counter = Counter()
        for text, slug in examples:
            counts.setdefault(slug, Counter()).update(tokens(text))
            docs[slug] += 1
        return cls({s: dict(c) for s, c in counts.items()}, dict(docs))

    @property
    def slugs(self) -> list[str]:
        return sorted(self.docs)

    def predict_proba(self, text: str) -> dict[str, float]:
        """Tempered posterior over the topics the model was trained on."""
        toks = Counter(tokens(text))
        if not self.docs:
            return {}
        n_docs = sum(self.docs.values())
        n_tok = sum(toks.values())
        temper = max(1.0, n_tok / 10.0)
        logp: dict[str, float] = {}
        for slug in self.docs:
            c = self.counts.get(slug, {})
            denom = math.log(self.totals.get(slug, 0) + self.vocab_size)
            ll = sum(n * (math.log(c.get(w, 0) + 1) - denom) for w, n in toks.items())
            logp[slug] = math.log(self.docs[slug] / n_docs) + ll / temper
        top = max(logp.values())
        exp = {s: math.exp(v - top) for s, v in logp.items()}
        z = sum(exp.values())
        return {s: v / z for s, v in exp.items()}

    def to_json(self) -> str:
        return json.dumps(
            {"type": "multinomial-nb", "version": 1, "docs": self.docs, "counts": self.counts},
            ensure_ascii=False,
            sort_keys=True,
        )

    @classmethod
    def from_json(cls, text: str) -> TopicModel:
        raw = json.loads(text)
        if raw.get("type") != "multinomial-nb":
            raise ValueError("not a TopicModel")
        return cls(
            {s: {w: int(n) for w, n in c.items()} for s, c in raw["counts"].items()},
            {s: int(n) for s, n in raw["docs"].items()},
        )


# -- suggestion ----------------------------------------------------------------------------


def suggest(
    text: str, taxonomy: Taxonomy, *, title: str = "", k: int = 2, model: TopicModel | None = None
) -> list[TopicSuggestion]:
    """Up to ``k`` suggested topics, best first, scores in 0..1; each after the first only if
    it scores at least half as much as the first."""
    scores = lexicon_scores(text, taxonomy, title)
    if model is not None:
        known = set(taxonomy.slugs)
        nb = {s: p for s, p in model.predict_proba(f"{title}\n{text}").items() if s in known}
        scores = {
            s: (1 - NB_WEIGHT) * scores.get(s, 0.0) + NB_WEIGHT * nb.get(s, 0.0)
            for s in set(scores) | set(nb)
        }
    ranked = sorted(
        scores.items(),
        key=lambda kv: (-kv[1], taxonomy.slugs.index(kv[0]) if kv[0] in taxonomy.slugs else 99),
    )
    out: list[TopicSuggestion] = []
    for slug, score in ranked[: max(0, k)]:
        if score < MIN_SCORE or (out and score < SECOND_RATIO * out[0].score):
            break
        out.append(TopicSuggestion(slug=slug, score=round(min(1.0, score), 4)))
    return out


__all__ = ["suggest", "TopicModel", "lexicon_scores", "lexicon_evidence", "tokens"]
