"""The trained department classifier: TF-IDF features × linear weights, calibrated by softmax.

A label's score also gains the model's name boost when the text names that very label (its
own name or an alias, as the longest match: `LabelNames`), which one-vs-rest weights cannot
learn, the feature being the same for every label.

Prediction needs only numpy and scipy (a sparse row times a dense weight matrix), so the
worker and the API never import scikit-learn. The model is one `.npz` file read with
`allow_pickle=False`: loading it never runs code, and sha256 sums catch any change to it.
"""

from __future__ import annotations

import hashlib
import json
import math
import os
import re
import tempfile
import zipfile
import zlib
from collections.abc import Sequence
from pathlib import Path
from typing import Any

import numpy as np
import scipy.sparse as sp

from classifiers.base import Prediction, Suggestion
from classifiers.errors import ModelFileError
from classifiers.features import (
    Document,
    FeatureConfig,
    FeatureSpace,
    LabelNames,
    TextAnalyzer,
    all_chinese,
    has_chinese,
)
from classifiers.tokenizer import Tokenizer, shared_tokenizer, stopwords
from core.errors import InvalidInput

FORMAT_NAME = "complaints-linear-classifier"
# 2: the date block; 3: the confusion transfer matrix; 4: the name boost. Older files still
# load (format 1 without dates, 1 and 2 without the confusion mix, 1 to 3 without the boost).
FORMAT_VERSION = 4
CLASSIFIER_VERSION = "1.0"
TOP_K = 3
MAX_REASONS = 6
MIN_REASONS = 3
# A term whose push is under this share of the strongest one is noise, unless needed for 3.
REASON_SHARE = 0.1

_JOINED_SEPARATOR = "\n"
_MENTION_MARK = "\x00"  # never in a term: marks a mention, shown by its words in the text


def softmax(scores: np.ndarray, temperature: float) -> np.ndarray:
    """Row-wise softmax of scores / temperature: the calibrated probabilities."""
    z = scores / temperature
    z = z - z.max(axis=1, keepdims=True)
    np.exp(z, out=z)
    z /= z.sum(axis=1, keepdims=True)
    return z


def mix_confusions(probabilities: np.ndarray, transfer: np.ndarray, share: float) -> np.ndarray:
    """(1 − share)·p + share·p·transfer: mass moved towards the labels a prediction is often
    confused with (two exports' names for one department, a catch-all office), learnt in
    validation. Rows still sum to one."""
    return (1.0 - share) * probabilities + share * (probabilities @ transfer)


class LinearClassifier:
    """Top 3 departments with calibrated probabilities and the words that argued for each."""

    name = "linear"

    def __init__(
        self,
        *,
        features: FeatureSpace,
        user_words: Sequence[str],
        weights: np.ndarray,
        bias: np.ndarray,
        metadata: dict[str, Any],
        transfer: np.ndarray | None = None,
    ) -> None:
        self.features = features
        self.user_words = list(user_words)
        self.weights = np.ascontiguousarray(weights, dtype=np.float32)
        self.bias = np.asarray(bias, dtype=np.float32)
        self.metadata = metadata
        self.labels: list[str] = list(metadata["labels"])
        self.threshold = float(metadata["threshold"])
        self.temperature = float(metadata["temperature"])
        self.confusion_mix = float(metadata.get("confusion_mix", 0.0))
        self.transfer = None if transfer is None else np.asarray(transfer, dtype=np.float32)
        if self.confusion_mix and self.transfer is None:
            raise ValueError("a confusion mix without its transfer matrix")
        n = len(self.labels)
        if self.transfer is not None and self.transfer.shape != (n, n):
            raise ValueError(f"transfer matrix {self.transfer.shape} does not fit {n} labels")
        if not 0.0 <= self.confusion_mix <= 1.0:
            raise ValueError(f"confusion mix {self.confusion_mix} is not in [0, 1]")
        # Added to a label's raw score where the text names that label (`LabelNames`).
        self.name_boost = float(metadata.get("name_boost", 0.0))
        if not (math.isfinite(self.name_boost) and self.name_boost >= 0):
            raise ValueError(f"name boost {self.name_boost} is not a non-negative number")
        aliases = metadata.get("label_aliases") or {}
        if not isinstance(aliases, dict):
            raise ValueError("label aliases are not a mapping")
        self._names = LabelNames.of(self.labels, aliases) if self.name_boost else None
        # e.g. 1.0+20260101T120000Z.3f2a9c1b: code version, when trained, on which data.
        stamp = re.sub(r"\D", "", metadata["created_at"])[:14]
        self.version = (
            f"{metadata['classifier_version']}+{stamp[:8]}T{stamp[8:]}Z"
            f".{metadata['training_data_sha256'][:8]}"
        )
        if self.weights.shape != (features.n_features, len(self.labels)):
            raise ValueError(
                f"weights {self.weights.shape} do not fit {features.n_features} features "
                f"× {len(self.labels)} labels"
            )
        if self.bias.shape != (len(self.labels),):
            raise ValueError(f"bias {self.bias.shape} does not fit {len(self.labels)} labels")
        if not self.temperature > 0:
            raise ValueError(f"temperature {self.temperature} is not positive")
        self._tokenizer: Tokenizer | None = None
        self._analyzer: TextAnalyzer | None = None
        if features.blocks[0].name != "char":
            raise ValueError("the first feature block must be the character n-grams")
        self._n_char = features.blocks[0].size
        self._readable: list[str] | None = None
        self._char_mask: np.ndarray | None = None

    def load_tokenizer(self) -> LinearClassifier:
        """Load jieba with this model's words (once per process); done before the first job."""
        if self._analyzer is None:
            config = self.features.config
            words = self.user_words if config.user_dictionary else ()
            self._tokenizer = shared_tokenizer(words)  # reasons need its dictionary in any case
            self._analyzer = TextAnalyzer(config, self._tokenizer if config.words else None)
        return self

    def analyze(self, texts: Sequence[str]) -> list[Document]:
        self.load_tokenizer()
        assert self._analyzer is not None
        return self._analyzer.analyze_all(texts)

    def scores(self, docs: Sequence[Document]) -> tuple[sp.csr_matrix, np.ndarray]:
        """The TF-IDF matrix and the raw scores (rows × labels): linear, plus the name boost
        where the text names the label."""
        x, raw, _ = self._scores(docs)
        return x, raw

    def _scores(
        self, docs: Sequence[Document]
    ) -> tuple[sp.csr_matrix, np.ndarray, list[dict[int, str]]]:
        """The matrix, the raw scores, and for each row the labels it names (by which name)."""
        x = self.features.transform(docs)
        raw = np.asarray(x @ self.weights) + self.bias
        named: list[dict[int, str]] = [{} for _ in docs]
        if self._names is not None:
            for row, doc in enumerate(docs):
                named[row] = self._names.find(doc.text)
                for label in named[row]:
                    raw[row, label] += self.name_boost
        return x, raw, named

    def predict_proba(self, texts: Sequence[str]) -> np.ndarray:
        """Calibrated probabilities, rows × `labels`."""
        _, raw = self.scores(self.analyze(texts))
        return self._probabilities(raw)

    def _probabilities(self, raw: np.ndarray) -> np.ndarray:
        probs = softmax(raw, self.temperature)
        if self.transfer is not None and self.confusion_mix > 0:
            probs = mix_confusions(probs, self.transfer, self.confusion_mix)
        return probs

    def predict(self, text: str) -> Prediction:
        return self.predict_batch([text])[0]

    def predict_batch(self, texts: Sequence[str]) -> list[Prediction]:
        docs = self.analyze(texts)
        x, raw, named = self._scores(docs)
        probs = self._probabilities(raw)
        k = min(TOP_K, len(self.labels))
        top = np.argpartition(-probs, k - 1, axis=1)[:, :k] if k < len(self.labels) else None
        predictions = []
        for row, doc in enumerate(docs):
            candidates = top[row] if top is not None else np.arange(len(self.labels))
            ranked = candidates[np.argsort(-probs[row, candidates], kind="stable")]
            reasons = self._reasons(x, row, doc, ranked, named[row])
            suggestions = tuple(
                Suggestion(self.labels[j], float(probs[row, j]), reasons[i])
                for i, j in enumerate(ranked)
            )
            predictions.append(Prediction(self.name, self.version, suggestions))
        return predictions

    def _reasons(
        self,
        x: sp.csr_matrix,
        row: int,
        doc: Document,
        labels: np.ndarray,
        named: dict[int, str],
    ) -> list[tuple[str, ...]]:
        """For each label, the words of this text with the largest positive push towards it.

        Words of two or more characters; a short text is filled up to three with dictionary
        words found among the character n-grams. A text too short for that gets fewer. A label
        the text names (`named`, which the name boost raised) has that first, as
        「文中点名“住房和城乡建设局”」, instead of the bare name among the words.
        """
        start, end = x.indptr[row], x.indptr[row + 1]
        idx, values = x.indices[start:end], x.data[start:end]
        is_word = idx >= self._n_char  # word and mention features, the readable ones
        words = self._terms_of(idx[is_word], doc)
        word_push = values[is_word, None] * self.weights[idx[is_word]][:, labels]
        grams: list[str] | None = None
        gram_push = np.empty((0, len(labels)), dtype=np.float32)
        result = []
        for col in range(len(labels)):
            chosen = _strongest(words, word_push[:, col], MAX_REASONS, share=REASON_SHARE)
            if len(chosen) < MIN_REASONS:
                if grams is None:
                    char_idx, char_values = idx[~is_word], values[~is_word]
                    keep = self._readable_chars()[char_idx]
                    grams = [self.features.blocks[0].terms[i] for i in char_idx[keep].tolist()]
                    gram_push = char_values[keep, None] * self.weights[char_idx[keep]][:, labels]
                _fill(chosen, _strongest(grams, gram_push[:, col], len(grams), share=0.0))
            name = named.get(int(labels[col]))
            if name is not None:
                chosen = [name_reason(name), *(t for t in chosen if t != name)][:MAX_REASONS]
            result.append(tuple(chosen))
        return result

    def _terms_of(self, features: np.ndarray, doc: Document) -> list[str]:
        """What staff read for each word or mention feature ("" for what is not shown)."""
        if self._readable is None:
            # A word shows as itself (tokens seen in two or more training texts, so not noise);
            # a mention as written in this text; a date not at all (it routes, it explains
            # nothing to staff).
            self._readable = [
                (t if self._shown(t) else "")
                if block.name == "word"
                else (_MENTION_MARK + t if block.name == "mention" else "")
                for block in self.features.blocks[1:]
                for t in block.terms
            ]
        terms = []
        for feature in features.tolist():
            term = self._readable[feature - self._n_char]
            if term.startswith(_MENTION_MARK):
                term = doc.surfaces.get(term[1:], "")
                term = term if len(term) >= 2 and has_chinese(term) else ""
            terms.append(term)
        return terms

    def _shown(self, term: str, *, in_dictionary: bool = False) -> bool:
        """A reason staff can read: 2+ characters, Chinese, not a stopword, a word if asked."""
        if len(term) < 2 or not has_chinese(term) or term in stopwords():
            return False
        assert self._tokenizer is not None
        return not in_dictionary or self._tokenizer.is_word(term)

    def _readable_chars(self) -> np.ndarray:
        """Which character n-grams may stand in as reasons: two or more Chinese characters."""
        if self._char_mask is None:
            terms = self.features.blocks[0].terms
            self._char_mask = np.fromiter(
                (
                    len(t) >= 2 and all_chinese(t) and self._shown(t, in_dictionary=True)
                    for t in terms
                ),
                dtype=bool,
                count=len(terms),
            )
        return self._char_mask

    def save(self, path: str | Path) -> Path:
        """Write the one model file atomically (a temporary file renamed into place)."""
        path = Path(path)
        arrays = self._arrays()
        metadata = dict(self.metadata)
        metadata["arrays_sha256"] = arrays_sha256(arrays)
        meta_bytes = json.dumps(metadata, ensure_ascii=False, sort_keys=True).encode("utf-8")
        arrays["metadata"] = np.frombuffer(meta_bytes, dtype=np.uint8)
        arrays["digest"] = np.frombuffer(hashlib.sha256(meta_bytes).digest(), dtype=np.uint8)
        fd, tmp = _temporary_beside(writable_model_path(path))
        try:
            with os.fdopen(fd, "wb") as handle:
                np.savez_compressed(handle, allow_pickle=False, **arrays)
            os.replace(tmp, path)
        except BaseException as exc:
            Path(tmp).unlink(missing_ok=True)
            if isinstance(exc, OSError):
                raise _unwritable(path, exc) from exc
            raise
        self.metadata = metadata
        return path

    def _arrays(self) -> dict[str, np.ndarray]:
        arrays = self.features.to_arrays()
        arrays["weights"] = self.weights
        arrays["bias"] = self.bias
        if self.transfer is not None:
            arrays["transfer"] = self.transfer
        joined = _JOINED_SEPARATOR.join(self.user_words).encode("utf-8")
        arrays["user_words"] = np.frombuffer(joined, dtype=np.uint8)
        return arrays

    @classmethod
    def load(cls, path: str | Path, *, tokenizer: bool = True) -> LinearClassifier:
        """Read and verify a model file; with `tokenizer`, also warm jieba for it."""
        metadata, arrays = read_model_file(Path(path))
        try:
            config = FeatureConfig.from_dict(metadata["feature_config"])
            features = FeatureSpace.from_arrays(config, arrays)
            raw_words = arrays["user_words"].tobytes().decode("utf-8")
            model = cls(
                features=features,
                user_words=raw_words.split(_JOINED_SEPARATOR) if raw_words else [],
                weights=arrays["weights"],
                bias=arrays["bias"],
                metadata=metadata,
                transfer=arrays.get("transfer"),
            )
        except (KeyError, ValueError, TypeError, UnicodeDecodeError) as exc:
            raise ModelFileError(f"{path}: the model file is inconsistent ({exc})") from exc
        return model.load_tokenizer() if tokenizer else model


def writable_model_path(path: str | Path) -> Path:
    """The path, once it is known that a model file can be written there (its folder created
    if missing): checked before training, which takes minutes, and again by `save`."""
    path = Path(path)
    if path.is_dir():
        raise InvalidInput(
            f"cannot write the model to {path}: it is a directory; "
            f"give a file path such as {path / 'departments.model'}"
        )
    fd, probe = _temporary_beside(path)
    os.close(fd)
    Path(probe).unlink(missing_ok=True)
    return path


def _temporary_beside(path: Path) -> tuple[int, str]:
    """A new temporary file in the path's folder (created if missing), opened for writing."""
    try:
        path.parent.mkdir(parents=True, exist_ok=True)
        return tempfile.mkstemp(dir=path.parent, prefix=f".{path.name}.", suffix=".tmp")
    except OSError as exc:
        raise _unwritable(path, exc) from exc


def _unwritable(path: Path, exc: OSError) -> InvalidInput:
    return InvalidInput(f"cannot write the model to {path}: {exc.strerror or exc}")


def name_reason(name: str) -> str:
    """The reason shown for a label the text names: 「文中点名“公安局交通警察支队”」."""
    return f"文中点名“{name}”"


def _fill(chosen: list[str], candidates: list[str]) -> None:
    """Add candidates not overlapping a chosen term until there are three."""
    for term in candidates:
        if len(chosen) >= MIN_REASONS:
            return
        if not any(term in t or t in term for t in chosen):
            chosen.append(term)


def _strongest(terms: Sequence[str], push: np.ndarray, limit: int, *, share: float) -> list[str]:
    """Distinct shown terms by total positive push, strongest first; weak ones cut after 3."""
    totals: dict[str, float] = {}
    for term, value in zip(terms, push.tolist(), strict=True):
        if term and value > 0:
            totals[term] = totals.get(term, 0.0) + value
    ranked = sorted(totals.items(), key=lambda item: (-item[1], item[0]))
    floor = share * ranked[0][1] if ranked else 0.0
    return [t for i, (t, v) in enumerate(ranked) if i < MIN_REASONS or v >= floor][:limit]


def arrays_sha256(arrays: dict[str, np.ndarray]) -> str:
    """One sha256 over every array's name, dtype, shape and bytes, in name order."""
    digest = hashlib.sha256()
    for name in sorted(arrays):
        array = np.ascontiguousarray(arrays[name])
        header = f"{name}|{array.dtype.str}|{','.join(map(str, array.shape))}|"
        digest.update(header.encode("utf-8"))
        digest.update(array.tobytes())
    return digest.hexdigest()


_READ_ERRORS = (OSError, ValueError, EOFError, KeyError, zipfile.BadZipFile, zlib.error)


def read_model_file(path: Path) -> tuple[dict[str, Any], dict[str, np.ndarray]]:
    """The verified metadata and arrays of a model file; ModelFileError says what is wrong."""
    if path.is_dir():
        raise ModelFileError(f"{path} is a directory, not a model file")
    if not path.is_file():
        raise ModelFileError(f"model file not found: {path}")
    if not _starts_as_npz(path):
        # numpy would try it as a pickle and say so, as if loading one were an option.
        raise ModelFileError(
            f"{path} is not a model file (model files are written by `complaints classifier train`)"
        )
    try:
        with np.load(path, allow_pickle=False) as npz:
            if not isinstance(npz, np.lib.npyio.NpzFile) or "metadata" not in npz.files:
                raise ModelFileError(f"{path} is not a model file (it has no model metadata)")
            meta_bytes = npz["metadata"].tobytes()
            metadata = _parse_metadata(path, meta_bytes)
            stored_digest = npz["digest"].tobytes() if "digest" in npz.files else b""
            if stored_digest != hashlib.sha256(meta_bytes).digest():
                raise ModelFileError(
                    f"{path} was changed after it was written: its metadata checksum does not match"
                )
            arrays = {name: npz[name] for name in npz.files if name not in ("metadata", "digest")}
    except ModelFileError:
        raise
    except _READ_ERRORS as exc:
        raise ModelFileError(
            f"{path} is not a readable model file (truncated or corrupted?): {exc}"
        ) from exc
    if arrays_sha256(arrays) != metadata.get("arrays_sha256"):
        raise ModelFileError(
            f"{path} was changed or damaged after it was written: "
            "its arrays checksum does not match"
        )
    return metadata, arrays


def _starts_as_npz(path: Path) -> bool:
    """Whether the file starts as a zip archive, as every `.npz` does."""
    try:
        with path.open("rb") as handle:
            return handle.read(4) == b"PK\x03\x04"
    except OSError as exc:
        raise ModelFileError(f"{path} cannot be read: {exc.strerror or exc}") from exc


def _parse_metadata(path: Path, raw: bytes) -> dict[str, Any]:
    """The JSON metadata, checked for our format name and a version this code can read."""
    try:
        metadata = json.loads(raw.decode("utf-8"))
    except (UnicodeDecodeError, json.JSONDecodeError) as exc:
        raise ModelFileError(f"{path}: the model metadata is corrupted ({exc})") from exc
    if not isinstance(metadata, dict) or metadata.get("format") != FORMAT_NAME:
        raise ModelFileError(f"{path} is not a model file of this platform")
    version = metadata.get("format_version")
    if not isinstance(version, int) or isinstance(version, bool):
        raise ModelFileError(f"{path}: the model format version is missing or not a number")
    if version > FORMAT_VERSION:
        raise ModelFileError(
            f"model format {version} is newer than this version reads ({FORMAT_VERSION}); "
            "upgrade the platform"
        )
    return metadata
