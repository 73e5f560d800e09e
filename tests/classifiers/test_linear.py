import hashlib
import json
import pickle
import random
import re
import subprocess
import sys
import zipfile
from collections import Counter
from pathlib import Path

import numpy as np
import pytest

from classifiers.base import Classifier
from classifiers.dataset import read_labelled_csv
from classifiers.errors import ModelFileError
from classifiers.features import normalize
from classifiers.linear import (
    FORMAT_VERSION,
    LinearClassifier,
    arrays_sha256,
    mix_confusions,
    name_reason,
    softmax,
)
from classifiers.training import train
from core.errors import InvalidInput

TRAIN_CSV = Path(__file__).resolve().parents[3] / "shared" / "data" / "haikou12345" / "train.csv"


@pytest.fixture(scope="module")
def held_texts() -> list[str]:
    return _rows()[1][:200]


def _rows() -> tuple[list[tuple[str, str]], list[str]]:
    """1,500 training rows of the 20 most frequent departments, and other texts to predict."""
    texts, labels = read_labelled_csv(TRAIN_CSV, "诉求内容", "处置单位")
    frequent = {label for label, _ in Counter(labels).most_common(20)}
    rows = [(t, lab) for t, lab in zip(texts, labels, strict=True) if lab in frequent]
    random.Random(11).shuffle(rows)
    return rows[:1500], [t for t, _ in rows[1500:]]


@pytest.fixture(scope="module")
def model() -> LinearClassifier:
    fit, _ = _rows()
    return train([t for t, _ in fit], [lab for _, lab in fit], seed=0)


@pytest.fixture(scope="module")
def saved(model, tmp_path_factory) -> Path:
    return model.save(tmp_path_factory.mktemp("model") / "linear.npz")


def test_is_a_classifier_with_top_three_calibrated_suggestions(model) -> None:
    classifier: Classifier = model
    prediction = classifier.predict("市民来电反映：小区门口有机动车违停堵路，请交警核实处理！")
    assert prediction.classifier == "linear"
    assert prediction.version == model.version
    assert len(prediction.top) == 3
    scores = [s.score for s in prediction.top]
    assert scores == sorted(scores, reverse=True)
    assert all(0.0 <= s <= 1.0 for s in scores)
    assert sum(scores) <= 1.0 + 1e-6
    assert prediction.best.label == "公安局交通警察支队"
    assert prediction.best.score > model.threshold


def test_version_names_the_code_the_time_and_the_data(model) -> None:
    meta = model.metadata
    assert re.fullmatch(r"1\.0\+\d{8}T\d{6}Z\.[0-9a-f]{8}", model.version)
    assert model.version.endswith(meta["training_data_sha256"][:8])


def test_empty_and_odd_texts_still_get_three_suggestions(model) -> None:
    assert model.predict_batch([]) == []
    for text in ["", "   ", "12345", "hello world", "𠀀"]:
        prediction = model.predict(text)
        assert len(prediction.top) == 3
        assert all(s.reasons == () for s in prediction.top)


def test_reasons_are_chinese_terms_of_the_text(model, held_texts) -> None:
    prediction = model.predict("市民来电反映：小区门口有机动车违停堵路，请交警核实处理！")
    assert "交警" in prediction.best.reasons
    for text, predicted in zip(held_texts, model.predict_batch(held_texts), strict=True):
        best = predicted.best.reasons
        assert len(best) <= 6
        assert len(set(best)) == len(best)
        for term in best:
            if term == name_reason(predicted.best.label):  # the text names the label
                assert model.name_boost > 0
                assert predicted.best.label in normalize(text)
                assert term == best[0]
                continue
            assert term in normalize(text)
            assert len(term) >= 2
            assert any("\u4e00" <= c <= "\u9fff" for c in term)
            assert term not in {"市民", "来电", "反映", "核实", "处理"}
    counts = [len(p.best.reasons) for p in model.predict_batch(held_texts)]
    assert np.mean([c >= 1 for c in counts]) > 0.95
    assert np.mean([c >= 3 for c in counts]) > 0.8


def test_predict_batch_agrees_with_predict(model, held_texts) -> None:
    batch = model.predict_batch(held_texts[:20])
    for text, one in zip(held_texts[:20], batch, strict=True):
        single = model.predict(text)
        assert [s.label for s in single.top] == [s.label for s in one.top]
        assert [s.reasons for s in single.top] == [s.reasons for s in one.top]
        np.testing.assert_allclose(
            [s.score for s in single.top], [s.score for s in one.top], rtol=1e-5
        )


def test_save_then_load_gives_identical_predictions(model, saved, held_texts) -> None:
    loaded = LinearClassifier.load(saved)
    assert loaded.labels == model.labels
    assert loaded.threshold == model.threshold
    assert loaded.version == model.version
    assert loaded.metadata["arrays_sha256"] == model.metadata["arrays_sha256"]
    before = [p.as_dict() for p in model.predict_batch(held_texts)]
    after = [p.as_dict() for p in loaded.predict_batch(held_texts)]
    assert after == before
    np.testing.assert_array_equal(loaded.predict_proba(held_texts), model.predict_proba(held_texts))


def test_metadata_is_json_with_what_an_operator_needs(saved) -> None:
    with np.load(saved, allow_pickle=False) as npz:
        meta = json.loads(npz["metadata"].tobytes().decode("utf-8"))
    for key in (
        "format_version",
        "classifier_version",
        "labels",
        "training_data_sha256",
        "training_size",
        "validation",
        "threshold",
        "target_precision",
        "created_at",
        "arrays_sha256",
        "name_boost",
    ):
        assert key in meta
    assert meta["format_version"] == FORMAT_VERSION


def test_predicting_does_not_import_scikit_learn(saved) -> None:
    code = (
        "import sys\n"
        "from classifiers.linear import LinearClassifier\n"
        f"model = LinearClassifier.load({str(saved)!r})\n"
        "print(model.predict('请交警核实处理').best.label)\n"
        "assert not [m for m in sys.modules if m.startswith('sklearn')], 'sklearn imported'\n"
    )
    done = subprocess.run([sys.executable, "-c", code], capture_output=True, text=True, timeout=60)
    assert done.returncode == 0, done.stderr
    assert done.stdout.strip() == "公安局交通警察支队"


def _rewrite(source: Path, target: Path, change, *, reseal: bool = False) -> Path:
    """Copy a model file, letting `change` edit its arrays and metadata (as a dict).

    With `reseal`, the checksums are recomputed: what a newer platform would have written.
    """
    with np.load(source, allow_pickle=False) as npz:
        arrays = {name: npz[name] for name in npz.files}
    raw = arrays["metadata"].tobytes()
    meta = json.loads(raw.decode("utf-8"))
    change(arrays, meta)
    if meta != json.loads(raw.decode("utf-8")):
        raw = json.dumps(meta).encode("utf-8")
    if reseal:
        body = {k: v for k, v in arrays.items() if k not in ("metadata", "digest")}
        meta["arrays_sha256"] = arrays_sha256(body)
        raw = json.dumps(meta).encode("utf-8")
        arrays["digest"] = np.frombuffer(hashlib.sha256(raw).digest(), dtype=np.uint8)
    arrays["metadata"] = np.frombuffer(raw, dtype=np.uint8)
    with target.open("wb") as handle:
        np.savez_compressed(handle, **arrays)
    return target


def test_a_model_file_from_a_newer_format_is_refused_with_advice(saved, tmp_path) -> None:
    def newer(arrays: dict, meta: dict) -> None:
        meta["format_version"] = FORMAT_VERSION + 1
        meta["something_new"] = [1, 2, 3]

    path = _rewrite(saved, tmp_path / "newer.npz", newer, reseal=True)
    message = (
        f"model format {FORMAT_VERSION + 1} is newer than this version reads "
        f"({FORMAT_VERSION}); upgrade the platform"
    )
    with pytest.raises(ModelFileError, match=f"^{re.escape(message)}$"):
        LinearClassifier.load(path)


def test_a_model_file_of_format_one_without_the_date_block_still_loads(
    saved, held_texts, tmp_path
) -> None:
    def format_one(arrays: dict, meta: dict) -> None:
        dated = len(arrays["idf_date"])
        assert dated > 0
        del arrays["terms_date"], arrays["idf_date"]
        arrays["weights"] = arrays["weights"][:-dated]  # the date block is the last one
        meta["format_version"] = 1
        del meta["feature_config"]["dates"], meta["feature_config"]["date_weight"]

    path = _rewrite(saved, tmp_path / "format1.npz", format_one, reseal=True)
    old = LinearClassifier.load(path)
    new = LinearClassifier.load(saved)
    assert [b.name for b in old.features.blocks] == ["char", "word", "mention"]
    undated = [t for t in held_texts if not new.analyze([t])[0].dates][:50]
    np.testing.assert_allclose(old.predict_proba(undated), new.predict_proba(undated), atol=1e-6)


def test_a_model_file_of_format_two_without_the_confusion_mix_still_loads(
    saved, held_texts, tmp_path
) -> None:
    def format_two(arrays: dict, meta: dict) -> None:
        del arrays["transfer"], meta["confusion_mix"], meta["confusion_smoothing"]
        meta["format_version"] = 2

    old = LinearClassifier.load(_rewrite(saved, tmp_path / "format2.npz", format_two, reseal=True))
    new = LinearClassifier.load(saved)
    assert old.transfer is None
    assert old.confusion_mix == 0.0
    _, raw = new.scores(new.analyze(held_texts[:50]))
    z = np.exp(raw / new.temperature - (raw / new.temperature).max(axis=1, keepdims=True))
    np.testing.assert_allclose(
        old.predict_proba(held_texts[:50]), z / z.sum(axis=1, keepdims=True), rtol=1e-4, atol=1e-7
    )


def test_a_transfer_matrix_that_does_not_fit_the_labels_is_refused(saved, tmp_path) -> None:
    def shrink(arrays: dict, meta: dict) -> None:
        arrays["transfer"] = arrays["transfer"][:-1]

    path = _rewrite(saved, tmp_path / "shrunk.npz", shrink, reseal=True)
    with pytest.raises(ModelFileError, match=r"transfer matrix .* does not fit"):
        LinearClassifier.load(path, tokenizer=False)


def test_a_confusion_mix_without_its_transfer_matrix_is_refused(saved, tmp_path) -> None:
    def drop(arrays: dict, meta: dict) -> None:
        del arrays["transfer"]

    path = _rewrite(saved, tmp_path / "dropped.npz", drop, reseal=True)
    with pytest.raises(ModelFileError, match="confusion mix without its transfer matrix"):
        LinearClassifier.load(path, tokenizer=False)


def test_resealing_alone_keeps_a_file_loadable(saved, tmp_path) -> None:
    path = _rewrite(saved, tmp_path / "same.npz", lambda arrays, meta: None, reseal=True)
    assert LinearClassifier.load(path, tokenizer=False).labels


def test_changed_weights_are_detected(saved, tmp_path) -> None:
    def tamper(arrays: dict, meta: dict) -> None:
        weights = arrays["weights"].copy()
        weights[0, 0] += 1.0
        arrays["weights"] = weights

    path = _rewrite(saved, tmp_path / "weights.npz", tamper)
    with pytest.raises(ModelFileError, match="arrays checksum does not match"):
        LinearClassifier.load(path)


def test_a_changed_threshold_is_detected(saved, tmp_path) -> None:
    def tamper(arrays: dict, meta: dict) -> None:
        meta["threshold"] = 0.0

    path = _rewrite(saved, tmp_path / "threshold.npz", tamper)
    with pytest.raises(ModelFileError, match="metadata checksum does not match"):
        LinearClassifier.load(path)


def test_a_truncated_file_is_refused(saved, tmp_path) -> None:
    path = tmp_path / "truncated.npz"
    path.write_bytes(saved.read_bytes()[: saved.stat().st_size // 2])
    with pytest.raises(ModelFileError, match="truncated or corrupted"):
        LinearClassifier.load(path)


def test_a_corrupted_file_is_refused(saved, tmp_path) -> None:
    raw = bytearray(saved.read_bytes())
    with zipfile.ZipFile(saved) as archive:
        info = archive.getinfo("weights.npy")
    middle = info.header_offset + 100 + info.compress_size // 2
    raw[middle : middle + 16] = bytes(b ^ 0xFF for b in raw[middle : middle + 16])
    path = tmp_path / "corrupted.npz"
    path.write_bytes(bytes(raw))
    with pytest.raises(ModelFileError, match=r"truncated or corrupted|checksum does not match"):
        LinearClassifier.load(path)


@pytest.mark.parametrize("content", [b"", b"not a model at all\n", b"PK\x03\x04garbage"])
def test_something_else_is_not_a_model_file(tmp_path, content: bytes) -> None:
    path = tmp_path / "other.npz"
    path.write_bytes(content)
    with pytest.raises(ModelFileError):
        LinearClassifier.load(path)


def test_a_pickle_is_refused_without_running_it(tmp_path) -> None:
    marker = tmp_path / "ran"

    class Payload:
        def __reduce__(self):
            return (Path.touch, (marker,))

    path = tmp_path / "evil.npz"
    path.write_bytes(pickle.dumps(Payload()))
    with pytest.raises(ModelFileError, match="not a model file"):
        LinearClassifier.load(path)
    assert not marker.exists()


def test_an_npz_of_someone_else_is_not_a_model_file(tmp_path) -> None:
    path = tmp_path / "other.npz"
    np.savez(path, weights=np.zeros(3))
    with pytest.raises(ModelFileError, match="not a model file"):
        LinearClassifier.load(path)


def test_a_csv_given_as_the_model_is_not_a_model_file_and_no_pickle_is_mentioned(
    tmp_path,
) -> None:
    path = tmp_path / "holdout.csv"
    path.write_text("诉求内容,处置单位\n噪音扰民,城管局\n", encoding="utf-8")
    with pytest.raises(ModelFileError, match="is not a model file") as refused:
        LinearClassifier.load(path)
    assert "pickle" not in str(refused.value)


def test_a_folder_given_as_the_model_is_reported_as_a_folder(tmp_path) -> None:
    with pytest.raises(ModelFileError, match="is a directory, not a model file"):
        LinearClassifier.load(tmp_path)


def test_a_missing_model_file_is_reported(tmp_path) -> None:
    with pytest.raises(ModelFileError, match="not found"):
        LinearClassifier.load(tmp_path / "none.npz")


def test_model_file_errors_are_invalid_input() -> None:
    assert issubclass(ModelFileError, InvalidInput)


def test_saving_where_no_file_can_be_written_is_a_clear_error(model, tmp_path) -> None:
    with pytest.raises(InvalidInput, match="is a directory"):
        model.save(tmp_path)
    with pytest.raises(InvalidInput, match=r"cannot write the model to /proc/none/m\.model"):
        model.save("/proc/none/m.model")
    assert list(tmp_path.iterdir()) == []


def _with_boost(model: LinearClassifier, boost: float) -> LinearClassifier:
    """The same model with another name boost."""
    return LinearClassifier(
        features=model.features,
        user_words=model.user_words,
        weights=model.weights,
        bias=model.bias,
        metadata={**model.metadata, "name_boost": boost},
        transfer=model.transfer,
    ).load_tokenizer()


def _unboosted_proba(model: LinearClassifier, texts: list[str]) -> np.ndarray:
    """What every format before 4 computed: linear scores, softmax, confusion mix."""
    x = model.features.transform(model.analyze(texts))
    raw = np.asarray(x @ model.weights) + model.bias
    return mix_confusions(softmax(raw, model.temperature), model.transfer, model.confusion_mix)


NAMING = "小区门口机动车违停堵路，请交警核实处理，住房和城乡建设局也应过问"


def test_the_name_boost_raises_the_score_of_a_label_the_text_names(model) -> None:
    assert "住房和城乡建设局" in model.labels
    assert "公安局交通警察支队" in model.labels
    housing = model.labels.index("住房和城乡建设局")
    plain, boosted = _with_boost(model, 0.0), _with_boost(model, 3.0)
    _, raw = plain.scores(plain.analyze([NAMING, "请公安局交通警察支队核实"]))
    _, raised = boosted.scores(boosted.analyze([NAMING, "请公安局交通警察支队核实"]))
    police = model.labels.index("公安局交通警察支队")
    expected = raw.copy()
    expected[0, housing] += 3.0
    expected[1, police] += 3.0  # and not 公安局, which the longer name holds
    np.testing.assert_allclose(raised, expected, rtol=1e-6)

    before, after = plain.predict(NAMING), boosted.predict(NAMING)
    assert before.top[0].label == "公安局交通警察支队"
    assert after.top[0].label == "住房和城乡建设局"  # the boost changed the ranking
    assert after.top[0].reasons[0] == "文中点名“住房和城乡建设局”"
    assert "住房和城乡建设局" not in after.top[0].reasons  # said once, as the name match
    assert not any("文中点名" in r for s in before.top for r in s.reasons)
    # A label the text does not name gets no such reason.
    assert not any("文中点名" in r for s in after.top[1:] for r in s.reasons)


def test_a_model_file_of_format_three_without_the_name_boost_predicts_as_before(
    saved, held_texts, tmp_path
) -> None:
    def boosted(arrays: dict, meta: dict) -> None:
        meta["name_boost"] = 0.5

    def format_three(arrays: dict, meta: dict) -> None:
        del meta["name_boost"]
        meta["format_version"] = 3

    new = LinearClassifier.load(_rewrite(saved, tmp_path / "boosted.npz", boosted, reseal=True))
    old = LinearClassifier.load(
        _rewrite(saved, tmp_path / "format3.npz", format_three, reseal=True)
    )
    assert old.name_boost == 0.0
    assert new.name_boost == 0.5
    texts = held_texts[:60]
    expected = _unboosted_proba(old, texts)
    np.testing.assert_allclose(old.predict_proba(texts), expected, rtol=1e-5, atol=1e-7)
    before = [p.as_dict() for p in old.predict_batch(texts)]
    assert before == [p.as_dict() for p in _with_boost(old, 0.0).predict_batch(texts)]
    assert not any("文中点名" in r for p in before for s in p["top"] for r in s["reasons"])
    # Not a vacuous check: the same arrays with the boost predict otherwise on these texts.
    assert not np.allclose(new.predict_proba(texts), expected, rtol=1e-5, atol=1e-7)


@pytest.mark.parametrize("boost", [-0.1, float("inf"), "much"])
def test_a_name_boost_that_is_not_a_non_negative_number_is_refused(saved, tmp_path, boost) -> None:
    def bad(arrays: dict, meta: dict) -> None:
        meta["name_boost"] = boost

    path = _rewrite(saved, tmp_path / "bad.npz", bad, reseal=True)
    with pytest.raises(ModelFileError, match="inconsistent"):
        LinearClassifier.load(path, tokenizer=False)
