"""The vocabulary: packaged dictionary and synonyms, editor changes, the jieba tokenizer."""

import pickle
import re

import pytest

from indexer.ingest.normalize import for_search
from indexer.search.jieba_words import tokenizer_for
from indexer.search.vocab import Vocabulary, search_key
from library.errors import UsageError


@pytest.fixture(scope="module")
def packaged():
    return Vocabulary.load()


@pytest.fixture(scope="module")
def tokenizer(packaged):
    return tokenizer_for(packaged)


def _split_inside(tokens, start, end):
    pos = 0
    for t in tokens:
        pos += len(t)
        if start < pos < end:
            return True
    return False


# --- packaged data -------------------------------------------------------------------------


def test_packaged_dictionary_is_large_clean_and_unique(packaged):
    assert len(packaged.terms) >= 300
    assert packaged.warnings == []
    keys = [search_key(t) for t in packaged.terms]
    assert len(keys) == len(set(keys))
    for t in packaged.terms:
        assert re.fullmatch(r"[\u4e00-\u9fd5A-Za-z0-9+#&._%\-]+", t), t


@pytest.mark.parametrize(
    "term",
    [
        "新时代中国特色社会主义思想",
        "两个确立",
        "四个意识",
        "四个自信",
        "两个维护",
        "六进",
        "党史学习教育",
        "中国式现代化",
        "新质生产力",
        "百千万工程",
        "高质量发展",
        "全过程人民民主",
        "理论宣讲",
        "百姓宣讲",
        "微宣讲",
        "枫桥经验",
        "绿水青山就是金山银山",
        "七星岩",
        "鼎湖山",
        "端砚",
        "肇庆",
    ],
)
def test_packaged_dictionary_has_the_core_vocabulary(packaged, term):
    assert term in packaged


def test_packaged_synonyms(packaged):
    assert len(packaged.synonym_groups) >= 40
    for g in packaged.synonym_groups:
        assert len(g) >= 2
        assert len({search_key(f) for f in g}) == len(g)
    forms = [search_key(f) for g in packaged.synonym_groups for f in g]
    assert len(forms) == len(set(forms)), "a form in two groups would make expansion ambiguous"


@pytest.mark.parametrize(
    ("short", "full"),
    [("民企", "民营企业"), ("国企", "国有企业"), ("央企", "中央企业"), ("GDP", "地区生产总值")],
)
def test_the_abbreviations_of_work_reports_find_the_full_forms(packaged, short, full):
    """The 31 work reports write 民营企业 46 times and 民企 9: a speaker typing 民企 found 9."""
    assert full in packaged.expand(short) and short in packaged.expand(full)


def test_expand_gives_every_form_with_the_typed_one_first(packaged):
    assert packaged.expand("十九大") == [
        "十九大",
        "党的十九大",
        "19大",
        "党的第十九次全国代表大会",
        "中共十九大",
        "中国共产党第十九次全国代表大会",
        "中共第十九次全国代表大会",
    ]
    forms = packaged.expand("20大")
    assert forms[0] == "20大"
    assert {"二十大", "党的二十大", "党的第二十次全国代表大会"} <= set(forms)
    assert "习近平总书记" in packaged.expand("习总书记")
    assert "碳达峰碳中和" in packaged.expand("双碳")


def test_expand_matches_fullwidth_case_and_spaces(packaged):
    assert "二十大" in packaged.expand("２０大")
    assert "人工智能" in packaged.expand("ai")
    assert "党的十九大" in packaged.expand("十九 大")


def test_expand_applies_to_whole_terms_only(packaged):
    assert packaged.expand("学习十九大精神") == ["学习十九大精神"]
    assert packaged.expand("生态") == ["生态"]


def test_canonical_form(packaged):
    assert packaged.canonical("20大") == "二十大"
    assert packaged.canonical("无此词") == "无此词"


def test_prefix_terms_shortest_first(packaged):
    found = packaged.prefix_terms("肇庆", limit=3)
    assert found[0] == "肇庆"
    assert len(found) == 3
    assert all(search_key(f).startswith("肇庆") for f in found)
    assert packaged.prefix_terms("", 5) == []
    assert packaged.prefix_terms("不存在的前缀", 5) == []
    assert "新质生产力" in packaged.prefix_terms("新质")


# --- the tokenizer -----------------------------------------------------------------------------

_CONTEXTS = [
    "我们要深入学习{t}的重要意义",
    "关于{t}，大家认真讨论",
    "全面推进{t}工作",
    "人民{t}学习",
]


def test_every_dictionary_term_stays_one_token_inside_sentences(packaged, tokenizer):
    broken = []
    for term in packaged.terms:
        t = for_search(term)
        for ctx in _CONTEXTS:
            text = ctx.format(t=t)
            start = ctx.index("{t}")
            tokens = list(tokenizer.cut(text, HMM=False))
            if _split_inside(tokens, start, start + len(t)):
                broken.append("/".join(tokens))
    assert broken == []


@pytest.mark.parametrize(
    "sentence,token",
    [
        ("我们要加快发展新质生产力", "新质生产力"),
        ("深刻领悟两个确立的决定性意义", "两个确立"),
        ("推动宣讲六进活动", "六进"),
        ("周末去七星岩看看", "七星岩"),
        ("实施百千万工程", "百千万工程"),
    ],
)
def test_terms_come_out_whole(tokenizer, sentence, token):
    assert token in list(tokenizer.cut(sentence, HMM=False))


def test_ordinary_text_is_cut_as_jieba_would(tokenizer):
    import jieba

    plain = jieba.Tokenizer()
    for s in ["这是一个非常重要的问题", "十六进制数字", "人民群众的生活水平不断提高"]:
        assert list(tokenizer.cut(s, HMM=False)) == list(plain.cut(s, HMM=False))


def test_tokenizer_is_private_and_cached_per_version(packaged, tokenizer, tmp_path):
    import jieba

    assert tokenizer is not jieba.dt
    assert (
        "新质生产力" not in jieba.dt.FREQ
        or jieba.dt.FREQ["新质生产力"] != tokenizer.FREQ["新质生产力"]
    )
    assert tokenizer_for(Vocabulary.load()) is tokenizer
    edited = Vocabulary.load(tmp_path)
    edited.add_terms(["星湖绿道"])
    own = tokenizer_for(edited)
    assert own is not tokenizer
    assert "星湖绿道" in list(own.cut("沿着星湖绿道散步", HMM=False))
    assert "星湖绿道" not in list(tokenizer.cut("沿着星湖绿道散步", HMM=False))


def test_vocabulary_pickles_without_a_tokenizer(packaged, tokenizer):
    data = pickle.dumps(packaged)
    assert len(data) < 200_000
    again = pickle.loads(data)
    assert again.version == packaged.version
    assert again.expand("十九大") == packaged.expand("十九大")


# --- editor changes ------------------------------------------------------------------------------


def test_home_without_editor_files_is_the_packaged_vocabulary(packaged, tmp_path):
    assert Vocabulary.load(tmp_path).version == packaged.version
    assert Vocabulary.load(None).version == packaged.version


def test_add_and_remove_terms_persist_and_change_the_version(packaged, tmp_path):
    v = Vocabulary.load(tmp_path)
    assert v.add_terms(["星湖绿道", "新质生产力"]) == ["星湖绿道"]  # the second is packaged
    assert (tmp_path / "dictionary.txt").is_file()
    v1 = v.version
    assert v1 != packaged.version

    again = Vocabulary.load(tmp_path)
    assert "星湖绿道" in again.terms
    assert again.version == v1

    assert again.remove_terms(["端砚", "没有这个词"]) == ["端砚"]  # packaged term removed
    assert "端砚" not in again.terms
    assert again.version != v1
    third = Vocabulary.load(tmp_path)
    assert "端砚" not in third.terms and "星湖绿道" in third.terms

    third.add_terms("端砚")
    third.remove_terms("星湖绿道")
    assert third.version == packaged.version
    assert Vocabulary.load(tmp_path).version == packaged.version


def test_editor_file_written_by_hand(tmp_path):
    (tmp_path / "dictionary.txt").write_text(
        "# 注释\n+鼎湖山泉\n-端砚\n宋城墙夜游 90000\n+坏 词\n+\n+不是数字 x\n", encoding="utf-8"
    )
    v = Vocabulary.load(tmp_path)
    assert "鼎湖山泉" in v.terms and "宋城墙夜游" in v.terms and "端砚" not in v.terms
    assert v.word_freqs()["宋城墙夜游"] == 90000
    assert len(v.warnings) == 3  # "+坏 词", "+", "+不是数字 x"
    for n, w in zip((5, 6, 7), v.warnings):
        assert w.startswith(f"dictionary.txt 第 {n} 行无法使用")
    assert "词频" in v.warnings[0]


@pytest.mark.parametrize("bad", ["", "   ", "AI 赋能", "带标点，的词", "“一带一路”倡议", "字" * 41])
def test_invalid_terms_are_refused_with_a_chinese_message(tmp_path, bad):
    v = Vocabulary.load(tmp_path)
    before = v.version
    with pytest.raises(UsageError) as e:
        v.add_terms([bad])
    assert re.search(r"[\u4e00-\u9fff]", e.value.message)
    assert v.version == before
    assert not (tmp_path / "dictionary.txt").exists()


def test_spaces_between_chinese_characters_are_layout(tmp_path):
    v = Vocabulary.load(tmp_path)
    assert v.add_terms(["星湖 绿道"]) == ["星湖绿道"]


def test_fullwidth_term_is_added_once(tmp_path):
    v = Vocabulary.load(tmp_path)
    assert v.add_terms(["５Ｇ专网"]) == ["５Ｇ专网"]
    assert v.add_terms(["5g专网"]) == []
    assert "5g专网" in v.word_freqs()


def test_edits_without_a_home_stay_in_memory(packaged):
    v = Vocabulary.load()
    v.add_terms(["星湖绿道"])
    assert "星湖绿道" in v.terms
    assert v.version != packaged.version
    assert "星湖绿道" not in Vocabulary.load().terms


def test_add_synonyms_persists_and_changes_the_version(packaged, tmp_path):
    v = Vocabulary.load(tmp_path)
    group = v.add_synonyms(["星湖", "肇庆星湖"])
    assert group == ["星湖", "肇庆星湖"]
    assert v.expand("肇庆星湖") == ["肇庆星湖", "星湖"]
    assert v.version != packaged.version
    again = Vocabulary.load(tmp_path)
    assert again.expand("星湖") == ["星湖", "肇庆星湖"]
    assert again.version == v.version


def test_added_group_sharing_a_form_merges_with_the_packaged_one(tmp_path):
    v = Vocabulary.load(tmp_path)
    group = v.add_synonyms(["二十大", "第二十次党代会"])
    assert group[0] == "二十大"
    assert "第二十次党代会" in v.expand("20大")
    assert "党的二十大" in v.expand("第二十次党代会")


def test_remove_synonym_group(packaged, tmp_path):
    v = Vocabulary.load(tmp_path)
    assert v.remove_synonym_group("习总书记") == ["习近平总书记", "习总书记"]
    assert v.expand("习总书记") == ["习总书记"]
    assert v.version != packaged.version
    assert Vocabulary.load(tmp_path).expand("习总书记") == ["习总书记"]
    assert v.remove_synonym_group("无此词") == []

    v.add_synonyms(["星湖", "肇庆星湖"])
    v.remove_synonym_group("星湖")
    assert v.expand("星湖") == ["星湖"]
    lines = (tmp_path / "synonyms.txt").read_text(encoding="utf-8").splitlines()
    assert not any("肇庆星湖" in line for line in lines)  # no dead entries left behind

    v.add_synonyms(["习近平总书记", "习总书记"])
    assert Vocabulary.load(tmp_path).version == packaged.version


def test_synonym_file_written_by_hand(tmp_path):
    (tmp_path / "synonyms.txt").write_text(
        "星湖 = 肇庆星湖\n+端砚＝端溪砚\n-双碳\n只有一个\n", encoding="utf-8"
    )
    v = Vocabulary.load(tmp_path)
    assert v.expand("端溪砚") == ["端溪砚", "端砚"]
    assert v.expand("星湖") == ["星湖", "肇庆星湖"]
    assert v.expand("双碳") == ["双碳"]
    assert len(v.warnings) == 1 and "synonyms.txt" in v.warnings[0]


@pytest.mark.parametrize(
    "group", [["二十大"], ["二十大", "２０大".replace("２０", "二十")], ["a=b", "c"], ["", "x"]]
)
def test_invalid_synonym_groups_are_refused(tmp_path, group):
    v = Vocabulary.load(tmp_path)
    with pytest.raises(UsageError):
        v.add_synonyms(group)
    assert not (tmp_path / "synonyms.txt").exists()
