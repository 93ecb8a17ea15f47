"""Topic suggestion: keyword lexicon, optional naive Bayes, stored model round trip."""

from __future__ import annotations

import subprocess
import sys

import pytest

from indexer.ingest.classify import TopicModel, suggest
from library.taxonomy import Taxonomy

TX = Taxonomy.default()

ECOLOGY = (
    "坚持绿水青山就是金山银山的理念，深入打好污染防治攻坚战，全面推行河长制、林长制，"
    "稳妥推进碳达峰碳中和，让良好生态环境成为群众最普惠的民生福祉。"
)
ZHAOQING = (
    "肇庆地处粤港澳大湾区西部，七星岩、鼎湖山山水相映，端砚名扬天下。端州、高要、四会"
    "和怀集、广宁、德庆、封开各展所长，全市上下奋力推进百千万工程。"
)
DEFENSE = (
    "今年征兵工作开始了，适龄青年踊跃报名参军入伍。各村居广泛开展双拥活动，"
    "关心退役军人和军属，全民国防教育深入人心。"
)
LAW = (
    "深入学习贯彻习近平法治思想，弘扬宪法精神，推进八五普法，"
    "运用新时代枫桥经验化解矛盾纠纷，引导群众遇事找法、办事依法。"
)
CULTURE = (
    "家风正则民风淳。《论语》说“德不孤，必有邻”，传承孝老爱亲的传统美德，是中华优秀传统文化的精髓。"
)


@pytest.mark.parametrize(
    "text, slug",
    [
        (ECOLOGY, "ecology"),
        (ZHAOQING, "new-zhaoqing"),
        (DEFENSE, "national-defense"),
        (LAW, "rule-of-law"),
        (CULTURE, "traditional-culture"),
    ],
)
def test_clear_paragraph_gets_its_topic_first(text, slug):
    out = suggest(text, TX)
    assert out and out[0].slug == slug
    assert 0.5 < out[0].score <= 1.0


def test_every_topic_has_a_filled_lexicon():
    for topic in TX:
        assert 25 <= len(topic.keywords) <= 60, topic.slug
        assert len(set(topic.keywords)) == len(topic.keywords), topic.slug


def test_unrelated_text_gets_no_suggestion():
    assert suggest("今天早上下了一场小雨，路边的花开得正好。", TX) == []
    assert suggest("", TX) == []


def test_at_most_k_and_second_only_when_close():
    mixed = ZHAOQING + ECOLOGY  # a Zhaoqing ecology story: both topics are fair
    out = suggest(mixed, TX)
    assert {s.slug for s in out} == {"new-zhaoqing", "ecology"}
    assert out[0].score >= out[1].score >= out[0].score / 2
    assert len(suggest(mixed, TX, k=1)) == 1
    single = suggest(ECOLOGY + "肇庆", TX)  # one stray word is not a second topic
    assert [s.slug for s in single] == ["ecology"]


def test_title_weighs_more_than_body():
    body = "要把道理讲清楚，把政策讲明白。" + "绿水青山。"
    assert suggest(body, TX)[0].slug == "ecology"
    assert suggest(body, TX, title="全民国防教育宣讲稿")[0].slug == "national-defense"


def test_naive_bayes_learns_vocabulary_the_lexicon_lacks():
    examples = [
        (
            "砚台雕刻师傅在老坑石上精心打磨，一方砚台要经过采石、制璞、雕刻、打磨多道工序。",
            "new-zhaoqing",
        ),
        ("砚坑开采讲究时令，雕刻师傅传承古法，砚台远销海内外。", "new-zhaoqing"),
        ("秸秆还田、测土配方施肥，合作社带着农户种好水稻。", "rural-revitalization"),
        ("水稻育秧、机插秧，合作社统一收购稻谷。", "rural-revitalization"),
    ]
    model = TopicModel.fit(examples)
    text = "老师傅拿起刻刀，在石料上雕刻出云纹，这方砚台要打磨三个月。"
    assert suggest(text, TX) == [] or suggest(text, TX)[0].slug != "rural-revitalization"
    out = suggest(text, TX, model=model)
    assert out and out[0].slug == "new-zhaoqing"
    assert all(0.0 <= s.score <= 1.0 for s in out)


def test_model_round_trips_through_json():
    model = TopicModel.fit([(ECOLOGY, "ecology"), (DEFENSE, "national-defense")])
    again = TopicModel.from_json(model.to_json())
    assert again.predict_proba(LAW) == pytest.approx(model.predict_proba(LAW))
    assert (
        max(
            again.predict_proba("生态环境污染防治"), key=again.predict_proba("生态环境污染防治").get
        )
        == "ecology"
    )


def test_model_topics_outside_the_taxonomy_are_ignored():
    model = TopicModel.fit([(ECOLOGY, "no-such-topic")])
    assert all(s.slug in TX.slugs for s in suggest(ECOLOGY, TX, model=model))


def test_importing_classify_does_not_load_jieba():
    code = "import indexer.ingest.classify, sys; print('jieba' in sys.modules)"
    out = subprocess.run([sys.executable, "-c", code], capture_output=True, text=True, check=True)
    assert out.stdout.strip() == "False"
