import dataclasses
import json
import random
from collections import Counter
from datetime import datetime
from pathlib import Path

import numpy as np
import pytest

from classifiers.dataset import read_labelled_csv
from classifiers.errors import DatasetError
from classifiers.features import TextAnalyzer, mine_user_words
from classifiers.linear import LinearClassifier
from classifiers.tokenizer import shared_tokenizer
from classifiers.training import (
    EVALUATION_KEYS,
    TrainingConfig,
    choose_name_boost,
    choose_threshold,
    cross_validate,
    evaluate,
    summarize,
    train,
    training_data_sha256,
    transfer_matrix,
)

TRAIN_CSV = Path(__file__).resolve().parents[3] / "shared" / "data" / "haikou12345" / "train.csv"
TARGET = 0.9


def _slices() -> tuple[tuple[list[str], list[str]], tuple[list[str], list[str]]]:
    """1,500 training and 700 evaluation rows of the 20 most frequent departments."""
    texts, labels = read_labelled_csv(TRAIN_CSV, "诉求内容", "处置单位")
    frequent = {label for label, _ in Counter(labels).most_common(20)}
    rows = [(t, lab) for t, lab in zip(texts, labels, strict=True) if lab in frequent]
    random.Random(7).shuffle(rows)
    fit, held = rows[:1500], rows[1500:2200]
    return ([t for t, _ in fit], [lab for _, lab in fit]), (
        [t for t, _ in held],
        [lab for _, lab in held],
    )


@pytest.fixture(scope="module")
def data() -> tuple[tuple[list[str], list[str]], tuple[list[str], list[str]]]:
    return _slices()


@pytest.fixture(scope="module")
def steps() -> list[tuple[str, int, int]]:
    return []


@pytest.fixture(scope="module")
def model(data, steps) -> LinearClassifier:
    (texts, labels), _ = data
    return train(
        texts, labels, seed=0, target_precision=TARGET, progress=lambda *s: steps.append(s)
    )


def test_evaluate_on_another_slice_gives_sane_metrics_under_exact_keys(data, model) -> None:
    _, (texts, labels) = data
    result = evaluate(model, texts, labels)
    assert tuple(result) == EVALUATION_KEYS
    assert result["n"] == len(texts) == 700
    assert 0.7 <= result["accuracy"] <= 0.97
    assert 0.4 <= result["macro_f1"] <= result["top3_accuracy"]
    assert result["accuracy"] < result["top3_accuracy"] <= 1.0
    assert result["accuracy"] < result["accuracy_at_80_coverage"] <= 1.0
    assert 0.3 <= result["coverage_at_threshold"] <= 1.0
    assert result["precision_at_threshold"] > result["accuracy"]
    assert result["unseen_label_rows"] == 0
    assert result["texts_per_second"] > 100
    json.dumps(result)


def test_rows_with_a_label_the_model_never_saw_count_as_errors(data, model) -> None:
    _, (texts, labels) = data
    result = evaluate(model, texts[:50] + ["某个新部门的诉求"] * 10, labels[:50] + ["新部门"] * 10)
    baseline = evaluate(model, texts[:50], labels[:50])
    assert result["unseen_label_rows"] == 10
    assert result["n"] == 60
    assert result["accuracy"] == pytest.approx(baseline["accuracy"] * 50 / 60)


def test_threshold_reaches_the_target_precision_on_its_validation_data(data, model) -> None:
    (texts, labels), _ = data
    words = mine_user_words(texts, labels)
    docs = TextAnalyzer(model.features.config, shared_tokenizer(words)).analyze_all(texts)
    validation = cross_validate(docs, labels, seed=0)
    confidence = validation.probabilities.max(axis=1)
    predicted = np.array(validation.labels)[validation.probabilities.argmax(axis=1)]
    correct = predicted == np.array(labels)
    accepted = confidence >= model.threshold
    assert correct[accepted].mean() >= TARGET
    # It is the lowest such threshold: accepting the next less confident rows breaks the target.
    lower = confidence[confidence < model.threshold].max()
    assert correct[confidence >= lower].mean() < TARGET
    assert model.temperature == pytest.approx(validation.temperature)
    assert model.metadata["validation"]["precision_at_threshold"] == pytest.approx(
        correct[accepted].mean()
    )
    assert model.metadata["validation"]["coverage_at_threshold"] == pytest.approx(accepted.mean())


def test_metadata_records_the_training_run(data, model) -> None:
    (texts, labels), _ = data
    meta = model.metadata
    assert meta["format_version"] == 4
    assert meta["confusion_mix"] == TrainingConfig().confusion_mix > 0
    assert meta["name_boost"] in TrainingConfig().name_boosts
    assert model.name_boost == meta["name_boost"]
    assert meta["classifier_version"] == "1.0"
    assert meta["labels"] == model.labels == sorted(set(labels))
    assert meta["training_data_sha256"] == training_data_sha256(texts, labels)
    assert meta["training_size"] == 1500
    assert meta["threshold"] == model.threshold
    assert meta["target_precision"] == TARGET
    assert meta["threshold_reached"] is True
    assert datetime.fromisoformat(meta["created_at"]).utcoffset().total_seconds() == 0
    validation = meta["validation"]
    assert validation["folds"] == 5
    assert validation["n"] == 1500
    assert 0.6 < validation["accuracy"] < validation["top3_accuracy"]


def test_progress_reports_each_step_in_order(steps) -> None:
    names = [s[0] for s in steps]
    assert names[0] == "analyse"
    assert names[-1] == "fit"
    assert ("validate", 5, 5) in steps
    assert steps[-1] == ("fit", 1, 1)
    assert all(0 <= done <= total for _, done, total in steps)


def test_training_data_hash_depends_on_every_row() -> None:
    base = training_data_sha256(["噪音", "违停"], ["城管", "交警"])
    assert base == training_data_sha256(["噪音", "违停"], ["城管", "交警"])
    assert base != training_data_sha256(["噪音", "违停"], ["城管", "城管"])
    assert base != training_data_sha256(["违停", "噪音"], ["交警", "城管"])


def test_train_refuses_a_single_class_and_mismatched_rows() -> None:
    with pytest.raises(DatasetError, match="at least two classes"):
        train(["噪音", "施工"], ["城管", "城管"])
    with pytest.raises(DatasetError, match="2 texts but 1 labels"):
        train(["噪音", "施工"], ["城管"])


@pytest.mark.parametrize(
    ("texts", "labels"),
    [
        (["电梯坏了", "噪音扰民", "电梯困人", "夜间噪音"], ["x", "y", "x", "y"]),  # in each fold
        (["1234", "5678", "!!!", "???", "0000", "...."], ["x", "y"] * 3),  # no words at all
    ],
    ids=["too-few", "no-words"],
)
def test_texts_that_share_no_terms_are_a_dataset_error(texts, labels) -> None:
    with pytest.raises(DatasetError, match="the texts share no terms"):
        train(texts, labels)


def test_train_on_two_classes_gives_a_working_model() -> None:
    texts = ["请交警核实处理 机动车违停"] * 6 + ["请城管核实处理 占道经营"] * 6
    labels = ["交警"] * 6 + ["城管"] * 6
    model = train(texts, labels, config=TrainingConfig(folds=3))
    assert model.predict("有机动车违停，请交警核实").best.label == "交警"
    assert model.predict("占道经营，请城管核实").best.label == "城管"


def test_choose_threshold_takes_the_lowest_confidence_meeting_the_target() -> None:
    confidence = np.array([0.99, 0.95, 0.9, 0.8, 0.7, 0.6, 0.5])
    correct = np.array([True, True, True, False, True, False, False])
    assert choose_threshold(confidence, correct, 0.8) == (0.7, True)  # 4 of 5 right
    assert choose_threshold(confidence, correct, 1.0) == (0.9, True)
    assert choose_threshold(confidence, np.zeros(7, dtype=bool), 0.5) == (1.0, False)


def test_choose_threshold_accepts_tied_rows_together() -> None:
    confidence = np.array([0.9, 0.8, 0.8, 0.8])
    correct = np.array([True, True, False, False])
    # Cutting between the tied 0.8s is impossible, so 0.8 gives 2/4 and 0.9 is the answer.
    assert choose_threshold(confidence, correct, 0.6) == (0.9, True)


def test_summarize_counts_macro_f1_over_the_labels_true_or_predicted() -> None:
    truth = ["a", "a", "b", "c"]
    ranked = [["a", "b", "c"], ["b", "a", "c"], ["b", "a", "c"], ["d", "c", "a"]]
    result = summarize(truth, ranked, np.array([0.9, 0.5, 0.8, 0.7]), 0.75)
    assert result["accuracy"] == 0.5
    # a: tp 1, fn 1 → 2/3; b: tp 1, fp 1 → 2/3; c: fn 1 → 0; d, predicted once, never true: 0.
    assert result["macro_f1"] == pytest.approx((2 / 3 + 2 / 3 + 0 + 0) / 4)
    assert result["top3_accuracy"] == 1.0
    assert result["accuracy_at_80_coverage"] == pytest.approx(2 / 3)  # 3 most confident rows
    assert result["coverage_at_threshold"] == 0.5
    assert result["precision_at_threshold"] == 1.0


def test_macro_f1_is_scikit_learns_macro_average() -> None:
    from sklearn.metrics import f1_score

    truth = ["城管", "城管", "交警", "住建", "住建", "环保"]
    predicted = ["城管", "交警", "交警", "住建", "公安", "公安"]  # 公安 is never the truth
    result = summarize(truth, [[p] for p in predicted], np.ones(len(truth)), 0.5)
    assert result["macro_f1"] == pytest.approx(f1_score(truth, predicted, average="macro"))


def test_transfer_matrix_learns_confusions_and_keeps_unpredicted_labels_as_they_are() -> None:
    # Label 0 predicted 4 times, right twice, twice it was label 1; label 2 never predicted.
    probabilities = np.array([[0.9, 0.1, 0.0]] * 4 + [[0.1, 0.8, 0.1]] * 2)
    y = np.array([0, 0, 1, 1, 1, 2])
    transfer = transfer_matrix(probabilities, y, 3, smoothing=2.0)
    np.testing.assert_allclose(transfer.sum(axis=1), 1.0, rtol=1e-6)
    np.testing.assert_allclose(transfer[0], [4 / 6, 2 / 6, 0.0], rtol=1e-6)
    np.testing.assert_allclose(transfer[1], [0.0, 3 / 4, 1 / 4], rtol=1e-6)
    np.testing.assert_allclose(transfer[2], [0.0, 0.0, 1.0])


def test_the_model_mixes_its_probabilities_with_the_validation_confusions(data, model) -> None:
    _, (held_texts, _) = data
    assert model.transfer is not None
    assert model.transfer.shape == (len(model.labels), len(model.labels))
    np.testing.assert_allclose(model.transfer.sum(axis=1), 1.0, rtol=1e-5)
    _, raw = model.scores(model.analyze(held_texts[:40]))
    plain = np.exp(raw / model.temperature - (raw / model.temperature).max(1, keepdims=True))
    plain /= plain.sum(axis=1, keepdims=True)
    share = model.confusion_mix
    expected = (1 - share) * plain + share * plain @ model.transfer
    probabilities = model.predict_proba(held_texts[:40])
    np.testing.assert_allclose(probabilities, expected, rtol=1e-4, atol=1e-6)
    np.testing.assert_allclose(probabilities.sum(axis=1), 1.0, rtol=1e-5)


def test_without_the_confusion_mix_the_probabilities_are_the_softmax() -> None:
    texts = ["请交警核实处理 机动车违停"] * 6 + ["请城管核实处理 占道经营"] * 6
    labels = ["交警"] * 6 + ["城管"] * 6
    model = train(texts, labels, config=TrainingConfig(folds=3, confusion_mix=0.0))
    assert model.transfer is None
    assert model.metadata["confusion_mix"] == 0.0
    _, raw = model.scores(model.analyze(texts[:2]))
    plain = np.exp(raw / model.temperature)
    np.testing.assert_allclose(
        model.predict_proba(texts[:2]), plain / plain.sum(axis=1, keepdims=True), rtol=1e-5
    )


def test_the_name_boost_is_the_one_right_most_often_and_the_smallest_of_equals() -> None:
    # Rows 0 and 1 are wrong by 0.15 and 0.25; their texts name their own label.
    scores = np.array([[1.0, 0.85], [0.5, 0.25], [0.0, 1.0], [1.0, 0.0]])
    y = np.array([1, 1, 1, 0])
    named = np.array([[0.0, 1.0], [0.0, 1.0], [0.0, 0.0], [0.0, 0.0]])
    boosts = (0.0, 0.1, 0.2, 0.3, 0.5, 0.8)
    assert choose_name_boost(scores, y, named, boosts) == 0.3  # both right; 0.5 and 0.8 tie
    assert choose_name_boost(scores, y, named, (0.1, 0.2)) == 0.2  # 0 always competes
    assert choose_name_boost(scores, y, np.zeros_like(named), boosts) == 0.0
    # Names of the wrong label: any boost breaks rows that were right.
    misleading = np.array([[0.0, 0.0], [0.0, 0.0], [1.0, 0.0], [0.0, 1.0]])
    assert choose_name_boost(scores, y, misleading, boosts) == 0.0
    with pytest.raises(ValueError, match="not a non-negative number"):
        choose_name_boost(scores, y, named, (-0.1,))


def test_texts_that_never_name_a_label_train_no_name_boost() -> None:
    texts = ["机动车违停 堵路 请核实"] * 6 + ["占道经营 噪音 请核实"] * 6
    labels = ["甲部门"] * 6 + ["乙部门"] * 6
    model = train(texts, labels, config=TrainingConfig(folds=3))
    assert model.metadata["name_boost"] == model.name_boost == 0.0
    assert all("文中点名" not in r for s in model.predict(texts[0]).top for r in s.reasons)


def test_a_name_boost_is_chosen_when_the_names_route_what_the_words_cannot() -> None:
    # Each department has three texts on its topic and one that only names it: a name seen in
    # one text only is no feature, so the linear scores cannot route those, the boost can.
    topics = {
        "甲局": "机动车违停堵路",
        "乙局": "夜间噪音扰民",
        "丙局": "小区物业收费",
        "丁局": "道路积水严重",
        "戊局": "工资拖欠不发",
        "己局": "学校招生报名",
    }
    texts, labels = [], []
    for name, topic in topics.items():
        texts += [f"{topic}，第{i}次反映" for i in range(3)] + [f"{name}来过"]
        labels += [name] * 4
    config = TrainingConfig(folds=3, confusion_mix=0.0)
    model = train(texts, labels, config=config)
    off = train(texts, labels, config=dataclasses.replace(config, name_boosts=(0.0,)))
    assert model.name_boost > 0 == off.name_boost
    assert model.metadata["name_boost"] == model.name_boost
    accuracy = model.metadata["validation"]["accuracy"]
    assert accuracy > off.metadata["validation"]["accuracy"]
    for name in topics:
        best = model.predict(f"{name}来过").best
        assert best is not None
        assert best.label == name
        assert best.reasons[0] == f"文中点名“{name}”"
    assert len({off.predict(f"{name}来过").top[0].label for name in topics}) == 1
