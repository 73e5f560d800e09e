from pathlib import Path

import numpy as np
import pytest
from sklearn.feature_extraction.text import TfidfVectorizer

from classifiers.dataset import read_labelled_csv
from classifiers.features import (
    Document,
    FeatureConfig,
    FeatureSpace,
    LabelNames,
    TextAnalyzer,
    canonical_department,
    date_terms,
    department_mentions,
    mine_user_words,
    normalize,
)
from classifiers.tokenizer import Tokenizer, shared_tokenizer, stopwords

TRAIN_CSV = Path(__file__).resolve().parents[3] / "shared" / "data" / "haikou12345" / "train.csv"
TEXTS = [
    "市民来电反映: 龙华区海秀中路工地超时施工，请城管核实处理（请职能局按规定在30分钟内联系市民，响应处置）",
    "市民来电反映：南沙路有机动车违停，请交警核实处理！(请职能局按照规定30分钟内联系市民，响应处置！)",
    "龙华区城管来电反馈：（工单编号：20171231113725）关于施工噪音的问题，请城管核实处理",
    "派出所来电反馈：关于打麻将噪音扰民的问题，请公安核实处理！",
    "市民来电反映: 小区交房延期，请住建局核实处理，谢谢！",
    "市民来电咨询：车管所电话。",
]


@pytest.mark.parametrize(
    "raw",
    [
        "请城管核实处理（请职能局按规定在30分钟内联系市民，响应处置）",
        "请城管核实处理(请职能局按照规定30分钟内联系市民，响应处置！)",
        "请城管核实处理（请职能局在三十分钟内联系市民，响应处置！）",
        "请城管核实处理，请职能局在三十分钟内联系市民，响应处置",
    ],
)
def test_normalize_strips_the_thirty_minute_instruction(raw: str) -> None:
    assert normalize(raw) == "请城管核实处理"
    assert "30" in normalize(raw, strip_boilerplate=False) or "三十" in normalize(
        raw, strip_boilerplate=False
    )


def test_normalize_folds_width_case_and_spaces() -> None:
    assert (
        normalize("  市民来电反映：ＡＢＣ１２３\n\n车辆  违停！ ")
        == "市民来电反映:abc123 车辆 违停!"
    )


def test_normalize_keeps_other_parentheses() -> None:
    assert normalize("琼A12345（白色轿车）违停") == "琼a12345(白色轿车)违停"


@pytest.mark.parametrize(
    ("text", "expected"),
    [
        ("请住建局核实处理", [("请:住建局", "住建局")]),
        ("请交警核实处理！", [("请:交警", "交警")]),
        ("请市住建局核实处理", [("请:住建局", "市住建局")]),
        ("请龙华区政府核实处理", [("请:区政府", "龙华区政府")]),
        ("龙华区城管来电反馈:关于噪音", [("来电:城管", "龙华区城管")]),
        ("派出所来电反馈:关于噪音", [("来电:派出所", "派出所")]),
        ("2017-11-05 21:39美兰区白龙街道办回复:已处理", [("回复:街道办", "美兰区白龙街道办")]),
        ("市民来电反映:小区噪音", []),
    ],
)
def test_department_mentions(text: str, expected: list[tuple[str, str]]) -> None:
    assert department_mentions(normalize(text)) == expected


@pytest.mark.parametrize(
    ("name", "short"),
    [
        ("海垦派出所", "派出所"),
        ("海垦所", "派出所"),
        ("市城管局", "城管局"),
        ("秀英区政府", "区政府"),
        ("城西镇政府", "镇政府"),
        ("金贸街道办", "街道办"),
        ("市民云支撑组", "市民云支撑组"),
        ("职能局", "职能局"),
        ("相关部门", "职能局"),
    ],
)
def test_canonical_department(name: str, short: str) -> None:
    assert canonical_department(name) == short


def test_mined_user_words_are_labels_and_department_short_forms() -> None:
    texts = [
        "请住建局核实处理",
        "请住建局核实",
        "请交警核实处理",
        "请交警尽快到现场核实",
        "请交警核实",
    ]
    words = mine_user_words(texts, ["住房和城乡建设局", "公安局交通警察支队"])
    assert {"住建局", "交警", "住房和城乡建设局", "公安局交通警察支队"} <= set(words)
    assert "交警尽快到现场" not in words  # not a department's name
    assert "职能局" not in words


def test_user_words_stay_whole_tokens() -> None:
    text = "请公安局交通警察支队核实处理"
    assert "公安局交通警察支队" not in Tokenizer().tokenize(text)
    assert "公安局交通警察支队" in Tokenizer(["公安局交通警察支队"]).tokenize(text)


def test_shared_tokenizer_is_loaded_once_per_word_list() -> None:
    first = shared_tokenizer(["住建局", "交警"])
    assert shared_tokenizer(["交警", "住建局", " "]) is first
    assert shared_tokenizer(["城管局"]) is not first
    assert first.is_word("住建局")
    assert first.is_word("机动车")
    assert not first.is_word("建局核")


def test_stopwords_are_loaded_without_comments() -> None:
    words = stopwords()
    assert {"市民", "来电", "核实", "处理"} <= words
    assert not any(w.startswith("#") for w in words)


def _analyzer(config: FeatureConfig) -> TextAnalyzer:
    return TextAnalyzer(config, shared_tokenizer(mine_user_words(TEXTS, ["城管", "交警"])))


def test_char_block_matches_scikit_learn_tfidf() -> None:
    config = FeatureConfig(words=False, mentions=False, dates=False, min_df=1)
    docs = _analyzer(config).analyze_all(TEXTS)
    space = FeatureSpace.fit(docs, config)
    reference = TfidfVectorizer(analyzer="char", ngram_range=(1, 3), sublinear_tf=True)
    expected = reference.fit_transform([d.text for d in docs])
    order = [reference.vocabulary_[t] for t in space.blocks[0].terms]
    np.testing.assert_allclose(
        space.transform(docs).toarray(), expected[:, order].toarray(), atol=1e-6
    )


def test_each_block_is_normalised_to_its_weight() -> None:
    config = FeatureConfig(min_df=1, word_weight=0.5, mention_weight=0.25)
    docs = _analyzer(config).analyze_all(TEXTS)
    space = FeatureSpace.fit(docs, config)
    x = space.transform(docs).toarray()
    for block in space.blocks:
        norms = np.linalg.norm(x[:, block.offset : block.offset + block.size], axis=1)
        has_terms = norms > 0
        np.testing.assert_allclose(norms[has_terms], block.weight, rtol=1e-5)
    mention = space.blocks[2]
    assert {"请:城管", "请:交警", "来电:城管", "来电:派出所", "请:住建局"} <= set(mention.terms)


def test_min_df_drops_terms_seen_in_one_document_and_unknown_terms_are_ignored() -> None:
    config = FeatureConfig(words=True, mentions=False, min_df=2)
    analyzer = _analyzer(config)
    space = FeatureSpace.fit(analyzer.analyze_all(TEXTS), config)
    assert "车管所" not in space.blocks[1].index  # in one text only
    assert "城管" in space.blocks[1].index
    assert space.transform([analyzer.analyze("𠀀𠀁")]).nnz == 0


def test_feature_space_survives_the_array_round_trip() -> None:
    config = FeatureConfig(min_df=1)
    docs = _analyzer(config).analyze_all(TEXTS)
    space = FeatureSpace.fit(docs, config)
    again = FeatureSpace.from_arrays(config, space.to_arrays())
    assert [b.terms for b in again.blocks] == [b.terms for b in space.blocks]
    assert (again.transform(docs) != space.transform(docs)).nnz == 0


def test_analyzer_needs_a_tokenizer_for_words() -> None:
    with pytest.raises(ValueError, match="tokenizer"):
        TextAnalyzer(FeatureConfig(words=True), None)
    doc = TextAnalyzer(FeatureConfig(words=False), None).analyze("请交警核实处理")
    assert doc == Document("请交警核实处理", (), ("请:交警",), {"请:交警": "交警"})


def test_feature_config_round_trips_and_ignores_unknown_keys() -> None:
    config = FeatureConfig(min_df=3, hmm=False)
    assert FeatureConfig.from_dict({**config.as_dict(), "later_option": 1}) == config


def test_a_feature_config_from_before_the_date_block_has_none() -> None:
    old = {k: v for k, v in FeatureConfig().as_dict().items() if k not in ("dates", "date_weight")}
    assert FeatureConfig.from_dict(old).dates is False
    assert "date" not in FeatureSpace.block_names(FeatureConfig.from_dict(old))
    assert FeatureSpace.block_names(FeatureConfig()) == ["char", "word", "mention", "date"]


@pytest.mark.parametrize(
    ("text", "terms"),
    [
        ("（政府工单号20171229095250）", ["y:2017", "m:201712", "k:201712-2"]),
        ("其于2018年1月5日驾驶车辆", ["y:2018", "m:201801", "k:201801-0"]),
        ("2018-01-25至今", ["y:2018", "m:201801", "k:201801-2"]),
        ("2018年10月31日", ["y:2018", "m:201810", "k:201810-2"]),
        ("于2017年12月开始", ["y:2017", "m:201712"]),
        ("2018年1月和2月", ["y:2018", "m:201801"]),
        ("联系电话13820180105", []),  # digits inside a longer number are not a date
        ("违章代码1357，罚款200元", []),
    ],
)
def test_dates_in_the_text_give_year_month_and_ten_days(text: str, terms: list[str]) -> None:
    assert date_terms(normalize(text)) == terms


def test_the_date_block_holds_the_months_of_the_texts() -> None:
    config = FeatureConfig(min_df=1)
    docs = _analyzer(config).analyze_all(TEXTS)
    space = FeatureSpace.fit(docs, config)
    date = space.blocks[3]
    assert date.name == "date"
    assert set(date.terms) == {"y:2017", "m:201712", "k:201712-2"}  # the 工单编号 of TEXTS[2]
    x = space.transform(docs).toarray()[:, date.offset : date.offset + date.size]
    assert x[2].any()
    assert not np.delete(x, 2, axis=0).any()


def test_the_fast_segmenter_agrees_with_jieba_on_the_hotline_texts() -> None:
    pytest.importorskip("rjieba")
    texts, labels = read_labelled_csv(TRAIN_CSV, "诉求内容", "处置单位")
    words = mine_user_words(texts, labels)
    fast = Tokenizer(words).load()
    assert fast.fast
    reference = Tokenizer(words).load()
    reference._fast = None  # the pure-Python jieba path
    sample = [normalize(t) for t in texts[::5]]
    same = sum(fast.tokenize(t, hmm=False) == reference.tokenize(t, hmm=False) for t in sample)
    assert same / len(sample) >= 0.995


def test_word_bounds_count_spaces_so_offsets_match_the_text() -> None:
    # tokenize drops spaces; the bounds must not, or a name found after one is misplaced.
    text = "大厦门口 有车\n  乱停"
    fast = shared_tokenizer()
    reference = Tokenizer().load()
    reference._fast = None  # the pure-Python jieba path
    bounds = fast.word_bounds(text)
    assert bounds == reference.word_bounds(text)
    assert {0, 2, 4, text.index("乱停"), len(text)} <= bounds
    assert 3 not in bounds  # 门口 is one word


LABELS = ["公安局", "公安局交通警察支队", "交通警察支队", "住房和城乡建设局", "d07"]


@pytest.mark.parametrize(
    ("text", "named"),
    [
        ("请公安局交通警察支队核实处理", {1: "公安局交通警察支队"}),  # not 公安局, not 交通警察支队
        ("请公安局核实处理", {0: "公安局"}),
        ("公安局交通警察支队回复:已转公安局处理", {1: "公安局交通警察支队", 0: "公安局"}),
        ("请交通警察支队核实", {2: "交通警察支队"}),
        ("公安局交通警察支队、交通警察支队", {1: "公安局交通警察支队", 2: "交通警察支队"}),
        ("请住房和城乡建设局核实", {3: "住房和城乡建设局"}),
        ("请d07核实", {}),  # a code is not a name
        ("请住建局核实", {}),
    ],
)
def test_a_label_name_counts_only_where_no_longer_name_holds_it(text, named) -> None:
    names = LabelNames.of(LABELS)
    assert names.find(normalize(text)) == named
    row = names.indicator([normalize(text)])[0]
    assert row.tolist() == [1.0 if j in named else 0.0 for j in range(len(LABELS))]


def test_label_names_include_the_aliases_and_are_normalised() -> None:
    names = LabelNames.of(
        LABELS, {"交警": "公安局交通警察支队", "住建局": "住房和城乡建设局", "x": "y"}
    )
    assert names.find(normalize("请交警核实，住建局也知道")) == {1: "交警", 3: "住建局"}
    assert names.find(normalize("请公安局交通警察支队核实")) == {1: "公安局交通警察支队"}
    assert LabelNames.of(["ＡＢ警队"]).find(normalize("请ab警队核实")) == {0: "ab警队"}
    assert names.indicator([]).shape == (0, len(LABELS))
