from pathlib import Path

import pytest
import yaml

from classifiers.keyword import DepartmentTerms, KeywordClassifier
from routing.registry import DEFAULT_REGISTRY, parse_registry

SAMPLES = yaml.safe_load(
    (Path(__file__).parent.parent / "routing" / "registry_samples.yaml").read_text(encoding="utf-8")
)
MIN_SCORE = 0.5


@pytest.fixture(scope="module")
def classifier() -> KeywordClassifier:
    registry = parse_registry(DEFAULT_REGISTRY).registry
    return KeywordClassifier(
        [
            DepartmentTerms(code=d.code, names=(d.name, *d.aliases), keywords=tuple(d.keywords))
            for d in registry.departments
            if not d.triage
        ],
        version="test",
    ).load()


def _routed(classifier: KeywordClassifier, text: str) -> str:
    best = classifier.predict(text).best
    return best.label if best and best.score >= MIN_SCORE else "triage"


def test_the_default_registry_routes_most_sample_filings_right(
    classifier: KeywordClassifier,
) -> None:
    right = [s for s in SAMPLES if _routed(classifier, s["text"]) == s["department"]]
    wrong = [
        (s["department"], _routed(classifier, s["text"]), s["text"][:30])
        for s in SAMPLES
        if s not in right
    ]
    assert len(right) / len(SAMPLES) >= 0.85, wrong


def test_reasons_are_the_matched_words_strongest_first(classifier: KeywordClassifier) -> None:
    prediction = classifier.predict("质监局你好，小区电梯困人，电梯维保单位不来")
    best = prediction.best
    assert best is not None
    assert best.label == "quality"
    assert best.reasons[0] == "质监局"  # a department's own name weighs most
    assert "电梯" in best.reasons
    assert prediction.classifier == "keyword"
    assert prediction.version == "test"


def test_nothing_matched_means_no_suggestion(classifier: KeywordClassifier) -> None:
    assert classifier.predict("你好，我想反映一个情况，希望尽快处理").top == ()


def test_evidence_for_two_departments_lowers_the_score(classifier: KeywordClassifier) -> None:
    clear = classifier.predict("电梯困人，电梯维保单位不来").best
    mixed = classifier.predict("电梯困人，还有小区物业乱收费").best
    assert clear is not None
    assert mixed is not None
    assert mixed.score < clear.score
    assert 0 < mixed.score < 1


def test_scores_are_probability_like(classifier: KeywordClassifier) -> None:
    for sample in SAMPLES:
        top = classifier.predict(sample["text"]).top
        assert all(0 < s.score < 1 for s in top)
        assert sum(s.score for s in top) < 1
        assert [s.score for s in top] == sorted((s.score for s in top), reverse=True)
