"""Train the linear classifier, calibrate it on cross-validated predictions, and measure it.

scikit-learn is used here only (LinearSVC and the fold split); the model it produces is
plain arrays that `classifiers.linear` reads without it.
"""

from __future__ import annotations

import hashlib
import json
import math
import time
import warnings
from collections.abc import Callable, Mapping, Sequence
from dataclasses import dataclass, field
from datetime import UTC, datetime
from typing import Any

import numpy as np
import scipy.sparse as sp
from scipy.optimize import minimize_scalar
from sklearn.model_selection import StratifiedKFold
from sklearn.svm import LinearSVC

from classifiers.dataset import require_several_classes
from classifiers.errors import DatasetError
from classifiers.features import (
    Document,
    FeatureConfig,
    FeatureSpace,
    LabelNames,
    TextAnalyzer,
    mine_user_words,
)
from classifiers.linear import (
    CLASSIFIER_VERSION,
    FORMAT_NAME,
    FORMAT_VERSION,
    LinearClassifier,
    mix_confusions,
    softmax,
)
from classifiers.tokenizer import shared_tokenizer

Progress = Callable[[str, int, int], None]

EVALUATION_KEYS = (
    "n",
    "accuracy",
    "macro_f1",
    "top3_accuracy",
    "accuracy_at_80_coverage",
    "coverage_at_threshold",
    "precision_at_threshold",
    "unseen_label_rows",
    "texts_per_second",
)


@dataclass(frozen=True)
class TrainingConfig:
    """The model's knobs; the defaults are the ones the cross-validation in bench/ chose."""

    features: FeatureConfig = field(default_factory=FeatureConfig)
    c: float = 0.7
    class_weight_power: float = 0.5  # 0: none, 1: sklearn's "balanced"
    folds: int = 5
    # Share of the probabilities passed through the validation's confusions (0: none); see
    # `transfer_matrix`. The smoothing is the weight of "the prediction was right" per label.
    confusion_mix: float = 0.5
    confusion_smoothing: float = 3.0
    # What a label's score gains when the text names that very label (`LabelNames`): one
    # of these, the one with the best cross-validated accuracy. (0.0,) turns it off.
    name_boosts: tuple[float, ...] = (0.0, 0.1, 0.2, 0.3, 0.4, 0.5, 0.8)


@dataclass(frozen=True)
class Validation:
    """Cross-validated calibrated probabilities of every training row, and what they imply."""

    labels: list[str]  # columns of `probabilities`
    probabilities: np.ndarray  # confusion-mixed, each fold by the other folds' confusions
    temperature: float
    folds: int
    rare_labels: int  # labels with fewer rows than folds: some folds never saw them
    transfer: np.ndarray | None = None  # from every fold's confusions, for the final model
    name_boost: float = 0.0  # added to a label's score where the text names it


def training_data_sha256(texts: Sequence[str], labels: Sequence[str]) -> str:
    """sha256 of the rows in order, each as the JSON line [text, label]."""
    digest = hashlib.sha256()
    for text, label in zip(texts, labels, strict=True):
        digest.update(json.dumps([text, label], ensure_ascii=False).encode("utf-8") + b"\n")
    return digest.hexdigest()


def train(
    texts: Sequence[str],
    labels: Sequence[str],
    *,
    seed: int = 0,
    target_precision: float = 0.90,
    progress: Progress | None = None,
    config: TrainingConfig | None = None,
    label_aliases: Mapping[str, str] | None = None,
) -> LinearClassifier:
    """Validate by stratified k-fold, calibrate and pick the abstention threshold, fit on all.

    `label_aliases` (other names of the labels → the label, e.g. a department's name → its
    code) is kept in the model, so `evaluate` reads data that uses those names.
    """
    config = config or TrainingConfig()
    _check_rows(texts, labels)
    if not 0 < target_precision <= 1:
        raise ValueError(f"target precision {target_precision} is not in (0, 1]")
    report = progress or (lambda step, done, total: None)
    user_words = mine_user_words(texts, labels) if config.features.user_dictionary else []
    docs = _analyze(texts, config.features, user_words, report)
    validation = cross_validate(
        docs, labels, seed=seed, config=config, progress=report, label_aliases=label_aliases
    )
    confidence = validation.probabilities.max(axis=1)
    predicted = [validation.labels[i] for i in validation.probabilities.argmax(axis=1)]
    correct = np.array([p == t for p, t in zip(predicted, labels, strict=True)])
    threshold, reached = choose_threshold(confidence, correct, target_precision)
    ranked = _top_labels(validation.probabilities, validation.labels)
    metrics = summarize(list(labels), ranked, confidence, threshold)

    report("fit", 0, 1)
    features = _feature_space(docs, config.features)
    classes, weights, bias = _fit_svm(features.transform(docs), labels, config, seed)
    report("fit", 1, 1)
    metadata = {
        "format": FORMAT_NAME,
        "format_version": FORMAT_VERSION,
        "classifier": LinearClassifier.name,
        "classifier_version": CLASSIFIER_VERSION,
        "created_at": datetime.now(UTC).isoformat(timespec="seconds"),
        "labels": classes,
        "feature_config": config.features.as_dict(),
        "svm": {"c": config.c, "class_weight_power": config.class_weight_power, "seed": seed},
        "temperature": validation.temperature,
        "confusion_mix": config.confusion_mix if validation.transfer is not None else 0.0,
        "confusion_smoothing": config.confusion_smoothing,
        "name_boost": validation.name_boost,
        "threshold": threshold,
        "threshold_reached": reached,
        "target_precision": target_precision,
        "training_data_sha256": training_data_sha256(texts, labels),
        "training_size": len(texts),
        "training_labels": len(classes),
        "label_aliases": dict(label_aliases or {}),
        "validation": {
            "method": f"stratified {validation.folds}-fold cross-validated predictions",
            "folds": validation.folds,
            "seed": seed,
            "rare_labels": validation.rare_labels,
            **metrics,
        },
    }
    return LinearClassifier(
        features=features,
        user_words=user_words,
        weights=weights,
        bias=bias,
        metadata=metadata,
        transfer=validation.transfer,
    ).load_tokenizer()


def cross_validate(
    docs: Sequence[Document],
    labels: Sequence[str],
    *,
    seed: int = 0,
    config: TrainingConfig | None = None,
    progress: Progress | None = None,
    label_aliases: Mapping[str, str] | None = None,
) -> Validation:
    """Out-of-fold probabilities for every row: raised where the text names the label (by
    the name boost these scores choose), calibrated by a softmax temperature, then mixed
    with the confusions of the other folds (`transfer_matrix`)."""
    config = config or TrainingConfig()
    report = progress or (lambda step, done, total: None)
    classes = sorted(set(labels))
    y = np.searchsorted(classes, labels)
    counts = np.bincount(y, minlength=len(classes))
    folds = min(config.folds, int(counts.max()))
    if folds < 2:
        raise DatasetError("every label has a single row: too few to validate a model")
    scores = np.full((len(docs), len(classes)), -np.inf)
    splitter = StratifiedKFold(n_splits=folds, shuffle=True, random_state=seed)
    with warnings.catch_warnings():
        # Labels rarer than the fold count are expected; they are counted in `rare_labels`.
        warnings.filterwarnings("ignore", message="The least populated class", category=UserWarning)
        splits = list(splitter.split(np.zeros(len(y)), y))
    report("validate", 0, folds)
    fold_of = np.empty(len(y), dtype=np.int64)
    for done, (fit_rows, held_rows) in enumerate(splits, start=1):
        fold_of[held_rows] = done - 1
        space = _feature_space([docs[i] for i in fit_rows], config.features)
        fold_labels = [labels[i] for i in fit_rows]
        fold_classes, weights, bias = _fit_svm(
            space.transform([docs[i] for i in fit_rows]), fold_labels, config, seed
        )
        held = np.asarray(space.transform([docs[i] for i in held_rows]) @ weights) + bias
        scores[np.ix_(held_rows, np.searchsorted(classes, fold_classes))] = held
        report("validate", done, folds)
    named = LabelNames.of(classes, label_aliases).indicator([doc.text for doc in docs])
    name_boost = choose_name_boost(scores, y, named, config.name_boosts)
    if name_boost:
        scores += name_boost * named  # a label a fold never saw stays at -inf
    temperature = fit_temperature(scores, y)
    probabilities = softmax(scores, temperature)
    transfer = None
    if config.confusion_mix > 0:
        # Each fold's rows mixed by the confusions of the others, so no row judges itself.
        mixed = np.empty_like(probabilities)
        for fold in range(folds):
            rows = fold_of == fold
            others = transfer_matrix(
                probabilities[~rows], y[~rows], len(classes), config.confusion_smoothing
            )
            mixed[rows] = mix_confusions(probabilities[rows], others, config.confusion_mix)
        transfer = transfer_matrix(probabilities, y, len(classes), config.confusion_smoothing)
        probabilities = mixed
    return Validation(
        labels=classes,
        probabilities=probabilities,
        temperature=temperature,
        folds=folds,
        rare_labels=int((counts < folds).sum()),
        transfer=transfer,
        name_boost=name_boost,
    )


def choose_name_boost(
    scores: np.ndarray, y: np.ndarray, named: np.ndarray, boosts: Sequence[float]
) -> float:
    """The boost whose out-of-fold scores + boost × named are right most often; of equals,
    the smallest, so names that never help (or texts that never name a label) give 0."""
    best, best_right = 0.0, -1
    for boost in sorted({0.0, *boosts}):  # 0 always competes: the boost must earn its place
        if not (math.isfinite(boost) and boost >= 0):
            raise ValueError(f"name boost {boost} is not a non-negative number")
        right = int(((scores + boost * named).argmax(axis=1) == y).sum())
        if right > best_right:
            best, best_right = float(boost), right
    return best


def transfer_matrix(
    probabilities: np.ndarray, y: np.ndarray, n_labels: int, smoothing: float
) -> np.ndarray:
    """P(true label j | predicted label i) from out-of-fold predictions, rows i × columns j.

    Smoothed towards "the prediction was right" by `smoothing` rows per label, so a label
    predicted rarely (or never) in validation keeps its own probability.
    """
    predicted = probabilities.argmax(axis=1)
    counts = np.zeros((n_labels, n_labels))
    np.add.at(counts, (predicted, y), 1.0)
    counts[np.diag_indices(n_labels)] += smoothing
    return (counts / counts.sum(axis=1, keepdims=True)).astype(np.float32)


def fit_temperature(scores: np.ndarray, y: np.ndarray) -> float:
    """The T minimising the log loss of softmax(scores / T), on rows whose label was scored."""
    rows = np.isfinite(scores[np.arange(len(y)), y])
    scores, y = scores[rows], y[rows]
    if len(y) == 0:
        return 1.0

    def log_loss(log_t: float) -> float:
        z = scores / math.exp(log_t)
        top = z.max(axis=1)
        log_norm = top + np.log(np.exp(z - top[:, None]).sum(axis=1))
        return float(np.mean(log_norm - z[np.arange(len(y)), y]))

    found = minimize_scalar(log_loss, bounds=(math.log(1e-3), math.log(10.0)), method="bounded")
    return float(math.exp(found.x))


def choose_threshold(
    confidence: np.ndarray, correct: np.ndarray, target_precision: float
) -> tuple[float, bool]:
    """The lowest confidence at which the rows at or above it are right ≥ target of the time.

    Returns (threshold, reached); when no threshold reaches the target, (1.0, False):
    the classifier then abstains on almost everything, and routing sends it to triage.
    """
    order = np.argsort(-confidence, kind="stable")
    sorted_conf = confidence[order]
    precision = np.cumsum(correct[order]) / np.arange(1, len(order) + 1)
    # Rows tied on confidence are accepted together, so only the last of a tie is a cut.
    is_cut = np.append(sorted_conf[:-1] > sorted_conf[1:], True)
    ok = np.flatnonzero(is_cut & (precision >= target_precision))
    if len(ok) == 0:
        return 1.0, False
    return float(sorted_conf[ok[-1]]), True


def summarize(
    truth: Sequence[str],
    ranked: Sequence[Sequence[str]],
    confidence: np.ndarray,
    threshold: float,
) -> dict[str, Any]:
    """Accuracy, macro-F1, top-3, accuracy at 80 % coverage, etc.

    Macro-F1 is the standard one (scikit-learn's `f1_score(average="macro")`): the mean F1
    over every label that is true or predicted somewhere, so a label the model predicts but
    never gets right counts as a 0.
    """
    n = len(truth)
    predicted = [r[0] if r else "" for r in ranked]
    correct = np.array([p == t for p, t in zip(predicted, truth, strict=True)])
    f1s = []
    for label in sorted(set(truth) | set(predicted)):
        tp = sum(1 for p, t in zip(predicted, truth, strict=True) if p == t == label)
        fp = sum(1 for p, t in zip(predicted, truth, strict=True) if p == label != t)
        fn = sum(1 for p, t in zip(predicted, truth, strict=True) if t == label != p)
        f1s.append(2 * tp / (2 * tp + fp + fn))
    confident = np.argsort(-confidence, kind="stable")[: max(1, round(0.8 * n))]
    accepted = confidence >= threshold
    return {
        "n": n,
        "accuracy": float(correct.mean()),
        "macro_f1": float(np.mean(f1s)),
        "top3_accuracy": float(np.mean([t in r[:3] for t, r in zip(truth, ranked, strict=True)])),
        "accuracy_at_80_coverage": float(correct[confident].mean()),
        "coverage_at_threshold": float(accepted.mean()),
        "precision_at_threshold": float(correct[accepted].mean()) if accepted.any() else None,
    }


def evaluate(
    model: LinearClassifier, texts: Sequence[str], labels: Sequence[str]
) -> dict[str, Any]:
    """The model's metrics on labelled texts; rows whose label it never saw count as errors.

    A label the model knows by another name (its `label_aliases`) is read as the model's.
    """
    _check_rows(texts, labels, training=False)
    aliases = model.metadata.get("label_aliases") or {}
    labels = [aliases.get(label, label) for label in labels]
    model.load_tokenizer()
    started = time.perf_counter()
    predictions = model.predict_batch(texts)
    elapsed = time.perf_counter() - started
    ranked = [[s.label for s in p.top] for p in predictions]
    confidence = np.array([p.top[0].score if p.top else 0.0 for p in predictions])
    known = set(model.labels)
    result = summarize(labels, ranked, confidence, model.threshold)
    result["unseen_label_rows"] = sum(1 for label in labels if label not in known)
    result["texts_per_second"] = len(texts) / elapsed if elapsed > 0 else float("inf")
    return {key: result[key] for key in EVALUATION_KEYS}


def _check_rows(texts: Sequence[str], labels: Sequence[str], *, training: bool = True) -> None:
    if len(texts) != len(labels):
        raise DatasetError(f"{len(texts)} texts but {len(labels)} labels")
    if not texts:
        raise DatasetError("no rows")
    if training:
        require_several_classes(labels)


def _analyze(
    texts: Sequence[str], config: FeatureConfig, user_words: list[str], report: Progress
) -> list[Document]:
    tokenizer = shared_tokenizer(user_words) if config.words else None
    analyzer = TextAnalyzer(config, tokenizer)
    docs = []
    step = max(1, len(texts) // 20)
    for done, text in enumerate(texts, start=1):
        docs.append(analyzer.analyze(text))
        if done % step == 0 or done == len(texts):
            report("analyse", done, len(texts))
    return docs


def _feature_space(docs: Sequence[Document], config: FeatureConfig) -> FeatureSpace:
    """The terms of these documents; none at all (each seen in one text only, or texts of
    digits and punctuation) leaves nothing to learn from, in the whole set or in a fold."""
    space = FeatureSpace.fit(docs, config)
    if space.n_features == 0:
        raise DatasetError("the texts share no terms: too few or too short to train on")
    return space


def _fit_svm(
    x: sp.csr_matrix, labels: Sequence[str], config: TrainingConfig, seed: int
) -> tuple[list[str], np.ndarray, np.ndarray]:
    """(classes, weights features × classes, bias); two classes get two mirrored columns."""
    classes, counts = np.unique(np.asarray(labels), return_counts=True)
    weight = (counts.mean() / counts) ** config.class_weight_power
    svm = LinearSVC(
        C=config.c,
        class_weight=dict(zip(classes.tolist(), weight.tolist(), strict=True)),
        random_state=seed,
    )
    svm.fit(x, np.asarray(labels))
    coef = svm.coef_.T.astype(np.float32)
    bias = svm.intercept_.astype(np.float32)
    if len(classes) == 2:  # one decision function d: score the first class -d/2, the second d/2
        coef = np.hstack([-coef / 2, coef / 2])
        bias = np.concatenate([-bias / 2, bias / 2])
    return classes.tolist(), coef, bias


def _top_labels(probabilities: np.ndarray, labels: list[str], k: int = 3) -> list[list[str]]:
    order = np.argsort(-probabilities, axis=1, kind="stable")[:, :k]
    return [[labels[j] for j in row] for row in order]
