"""Text normalisation and TF-IDF features, the same code at training and at prediction time.

Four blocks, each L2-normalised and weighted: character 1–3-grams, jieba words, department
mentions (「请住建局核实处理」→ 请:住建局, 「交警来电反馈」→ 来电:交警), and the dates written
in the text (「工单号20171229095250」, 「2018年1月5日」→ its month, year and ten days), which
tell when an order was filed and so which of a department's names it was routed under. Only
numpy and scipy are used here, so a process that only predicts never imports scikit-learn.
"""

from __future__ import annotations

import re
import unicodedata
from collections import Counter
from collections.abc import Iterable, Mapping, Sequence
from dataclasses import asdict, dataclass, field, fields
from typing import Any

import numpy as np
import scipy.sparse as sp

from classifiers.tokenizer import Tokenizer

# 「（请职能局按规定在30分钟内联系市民，响应处置）」 and its ~150 variants: a routing
# instruction attached to most orders, the same whatever the department.
_BOILERPLATE = re.compile(
    r"\([^()]{0,30}(?:30|三十)分钟[^()]{0,30}\)?"
    r"|[,;]?\s*请?职能局[^,。!]{0,12}(?:30|三十)分钟[^。!()]{0,16}"
)
_SPACES = re.compile(r"\s+")
_CJK = re.compile(r"[\u4e00-\u9fff]")
_WORDLIKE = re.compile(r"[\w\u4e00-\u9fff]")

# 「请住建局核实处理」: the department the call-taker asked to act.
_REQUEST = re.compile(
    r"请([^,，。!！;；()（）:：]{1,15}?)(?:给予|予以|进行|尽快|部门|帮忙|协助)?"
    r"(?:核实|处理|核查|调查|查处|解决|回复|跟进|协调)"
)
# 「龙华区城管来电反馈」: a department calling back about an earlier order.
_CALLER = re.compile(r"^([^:：,，。()（）]{1,14}?)来电反馈")
# 「美兰区白龙街道办回复：」: a department's answer quoted in the order.
_REPLY = re.compile(r"([^\s:：,，。()（）《》\d]{2,12}?)(?<!来电)(?:回复|反馈)[:：]")
# A leading place (省 / 市 / 区 / 县, any deployment's), so 太原市小店区住建局 → 住建局.
_DISTRICT = re.compile(r"^(?:市(?!民|政))?(?:[\u4e00-\u9fff]{1,7}?(?:省|市(?!民|政)|区|县))*")
_IN_DISTRICT = re.compile(r"^(?:[\u4e00-\u9fff]{1,7}?(?:省|市))*[\u4e00-\u9fff]{1,7}?区")
_GENERIC = frozenset({"相关", "尽快", "职能", "相关部门", "有关部门"})
# A mined word joins jieba's dictionary only if it ends like a department's name.
_DEPARTMENT_ENDING = re.compile(
    r"(?:局|所|队|办|委|会|中心|公司|集团|部门|站|院|处|厅|政府|交警|城管|公安|供电|燃气|水务|"
    r"移动|联通|电信|机场)$"
)

# 「2018年1月5日」, 「2018-01-25」, 「工单号20171229095250」: year, month and, if given, the day.
_DATE = re.compile(
    r"(?<!\d)(20[0-3]\d)(?:年|[-./])?(1[0-2]|0?[1-9])"
    r"(?:(?:月|[-./])(?:(3[01]|[12]\d|0?[1-9])(?:日|号|\D|$))?|(?=(3[01]|[12]\d|0[1-9])))"
)

_TERM_SEPARATOR = "\n"  # never inside a term: normalisation turns every whitespace into " "


def normalize(text: str, *, strip_boilerplate: bool = True) -> str:
    """Full-width to half-width, lower case, the 30-minute instruction removed, spaces collapsed."""
    text = unicodedata.normalize("NFKC", text).lower()
    if strip_boilerplate:
        text = _BOILERPLATE.sub(" ", text)
    return _SPACES.sub(" ", text).strip()


def has_chinese(term: str) -> bool:
    return bool(_CJK.search(term))


def all_chinese(term: str) -> bool:
    return bool(term) and all(_CJK.match(c) for c in term)


def canonical_department(name: str) -> str:
    """The short form of a department mention: 市住建局 → 住建局, 海垦派出所 → 派出所."""
    name = name.strip()
    if "职能局" in name or "分钟" in name or name in _GENERIC:
        return "职能局"
    in_district = bool(_IN_DISTRICT.match(name))
    core = _DISTRICT.sub("", name) or name
    if core.endswith("派出所") or re.fullmatch(r".{1,3}所", core):
        return "派出所"
    if core.endswith(("街道办", "街道办事处", "街道")):
        return "街道办"
    if re.search(r"镇(人民)?政府$|镇$", core):
        return "镇政府"
    if core in ("政府", "区政府", "人民政府"):
        return "区政府" if in_district or core == "区政府" else "政府"
    return core


def department_mentions(normalized: str) -> list[tuple[str, str]]:
    """(feature, words as written) for each department the text asks, quotes or is called by."""
    found = [("请:" + canonical_department(m), m.strip()) for m in _REQUEST.findall(normalized)]
    caller = _CALLER.match(normalized)
    if caller:
        found.append(("来电:" + canonical_department(caller.group(1)), caller.group(1).strip()))
    found.extend(("回复:" + canonical_department(m), m.strip()) for m in _REPLY.findall(normalized))
    return found


def date_terms(normalized: str) -> list[str]:
    """When the text says things happened: y:2018, m:201801 and k:201801-0 (days 1–9)."""
    terms = []
    for year, month, day, packed_day in _DATE.findall(normalized):
        ym = f"{year}{int(month):02d}"
        terms += [f"y:{year}", f"m:{ym}"]
        if day or packed_day:
            terms.append(f"k:{ym}-{min(int(day or packed_day) // 10, 2)}")
    return terms


def mine_user_words(
    texts: Iterable[str], labels: Iterable[str], *, min_count: int = 2
) -> list[str]:
    """Department names for jieba: the labels and the short forms callers use (交警, 住建局)."""
    counts: Counter[str] = Counter()
    for text in texts:
        for feature, surface in department_mentions(normalize(text)):
            short = feature.split(":", 1)[1]
            for word in (short, surface):
                if 2 <= len(word) <= 8 and word != "职能局" and _DEPARTMENT_ENDING.search(word):
                    counts[word] += 1
    mined = {w for w, n in counts.items() if n >= min_count and all_chinese(w)}
    return sorted(mined | {label.strip() for label in labels if label.strip()})


@dataclass(frozen=True)
class FeatureConfig:
    """What the feature space is made of; stored in the model file, so predictions match."""

    char_min: int = 1
    char_max: int = 3
    words: bool = True
    mentions: bool = True
    user_dictionary: bool = True
    hmm: bool = False  # jieba's guesses of unknown words: no better in CV, and 15× slower
    strip_boilerplate: bool = True
    min_df: int = 2
    char_weight: float = 1.0
    word_weight: float = 1.0
    mention_weight: float = 0.6
    dates: bool = True
    date_weight: float = 0.4

    def as_dict(self) -> dict[str, Any]:
        return asdict(self)

    @classmethod
    def from_dict(cls, data: dict[str, Any]) -> FeatureConfig:
        known = {f.name for f in fields(cls)}
        # Model files from before the date block (format 1) have no "dates": they had none.
        return cls(**{"dates": False, **{k: v for k, v in data.items() if k in known}})


@dataclass(frozen=True)
class Document:
    """One text analysed: its normalised form, its words, and its department mentions."""

    text: str
    words: tuple[str, ...] = ()
    mentions: tuple[str, ...] = ()
    surfaces: dict[str, str] = field(default_factory=dict)  # mention feature → as written
    dates: tuple[str, ...] = ()

    def char_ngrams(self, low: int, high: int) -> list[str]:
        text = self.text
        return [text[i : i + n] for n in range(low, high + 1) for i in range(len(text) - n + 1)]


class TextAnalyzer:
    """Turns raw text into a Document; needs a loaded tokenizer only when words are used."""

    def __init__(self, config: FeatureConfig, tokenizer: Tokenizer | None = None) -> None:
        if config.words and tokenizer is None:
            raise ValueError("word features need a tokenizer")
        self.config = config
        self.tokenizer = tokenizer

    def analyze(self, text: str) -> Document:
        normalized = normalize(text, strip_boilerplate=self.config.strip_boilerplate)
        words: tuple[str, ...] = ()
        if self.tokenizer is not None and self.config.words:
            tokens = self.tokenizer.tokenize(normalized, hmm=self.config.hmm)
            words = tuple(w for w in tokens if _WORDLIKE.search(w))
        mentions: tuple[str, ...] = ()
        surfaces: dict[str, str] = {}
        if self.config.mentions:
            found = department_mentions(normalized)
            mentions = tuple(feature for feature, _ in found)
            surfaces = {feature: surface for feature, surface in found}
        dates = tuple(date_terms(normalized)) if self.config.dates else ()
        return Document(normalized, words, mentions, surfaces, dates)

    def analyze_all(self, texts: Iterable[str]) -> list[Document]:
        return [self.analyze(text) for text in texts]


@dataclass(frozen=True)
class Block:
    """One vocabulary with its idf and weight; its features sit at [offset, offset + size)."""

    name: str
    terms: tuple[str, ...]
    idf: np.ndarray
    weight: float
    offset: int
    index: dict[str, int] = field(repr=False, compare=False)

    @property
    def size(self) -> int:
        return len(self.terms)


def _block_terms(name: str, doc: Document, config: FeatureConfig) -> Sequence[str]:
    if name == "char":
        return doc.char_ngrams(config.char_min, config.char_max)
    if name == "word":
        return doc.words
    if name == "date":
        return doc.dates
    return doc.mentions


class FeatureSpace:
    """The fitted vocabularies and idf of every block; `transform` gives the TF-IDF matrix."""

    def __init__(self, config: FeatureConfig, blocks: Sequence[Block]) -> None:
        self.config = config
        self.blocks = tuple(blocks)
        self.n_features = sum(b.size for b in self.blocks)
        self._idf = np.concatenate([b.idf for b in self.blocks]).astype(np.float32)

    @staticmethod
    def block_names(config: FeatureConfig) -> list[str]:
        return [
            "char",
            *(["word"] if config.words else []),
            *(["mention"] if config.mentions else []),
            *(["date"] if config.dates else []),
        ]

    @staticmethod
    def block_weight(name: str, config: FeatureConfig) -> float:
        return {
            "char": config.char_weight,
            "word": config.word_weight,
            "date": config.date_weight,
        }.get(name, config.mention_weight)

    @classmethod
    def fit(cls, docs: Sequence[Document], config: FeatureConfig) -> FeatureSpace:
        """Keep the terms found in at least `min_df` documents; smooth idf as scikit-learn does."""
        blocks: list[Block] = []
        offset = 0
        n_docs = len(docs)
        for name in cls.block_names(config):
            df: Counter[str] = Counter()
            for doc in docs:
                df.update(set(_block_terms(name, doc, config)))
            # Mentions and dates are few and telling, so even a single one is kept.
            min_df = 1 if name in ("mention", "date") else config.min_df
            terms = tuple(sorted(t for t, n in df.items() if n >= min_df))
            counts = np.array([df[t] for t in terms], dtype=np.float64)
            idf = (np.log((1.0 + n_docs) / (1.0 + counts)) + 1.0).astype(np.float32)
            weight = cls.block_weight(name, config)
            blocks.append(
                Block(name, terms, idf, weight, offset, {t: i for i, t in enumerate(terms)})
            )
            offset += len(terms)
        return cls(config, blocks)

    def transform(self, docs: Sequence[Document]) -> sp.csr_matrix:
        """Sublinear tf × idf, L2-normalised per block and scaled by the block's weight."""
        ids: list[int] = []
        counts: list[int] = []
        segments: list[int] = []  # where each (document, block) run of `ids` starts
        scales: list[float] = []
        indptr = [0]
        for doc in docs:
            for block in self.blocks:
                get, offset = block.index.get, block.offset
                terms = Counter(_block_terms(block.name, doc, self.config)).items()
                found = [(i, n) for t, n in terms if (i := get(t)) is not None]
                if found:
                    segments.append(len(ids))
                    scales.append(block.weight)
                    found_ids, tfs = zip(*found, strict=True)
                    ids.extend([i + offset for i in found_ids])
                    counts.extend(tfs)
            indptr.append(len(ids))
        columns = np.asarray(ids, dtype=np.int32)
        values = (1.0 + np.log(np.asarray(counts, dtype=np.float32))) * self._idf[columns]
        if segments:
            norms = np.sqrt(np.add.reduceat(values * values, segments))
            lengths = np.diff(np.append(segments, len(values)))
            values *= np.repeat(np.asarray(scales, dtype=np.float32) / norms, lengths)
        return sp.csr_matrix(
            (values, columns, np.asarray(indptr, dtype=np.int64)),
            shape=(len(docs), self.n_features),
        )

    def block_at(self, feature: int) -> Block:
        for block in self.blocks:
            if block.offset <= feature < block.offset + block.size:
                return block
        raise IndexError(feature)

    def to_arrays(self) -> dict[str, np.ndarray]:
        """Every block's terms (UTF-8, newline-separated) and idf, for the model file."""
        arrays: dict[str, np.ndarray] = {}
        for block in self.blocks:
            joined = _TERM_SEPARATOR.join(block.terms).encode("utf-8")
            arrays[f"terms_{block.name}"] = np.frombuffer(joined, dtype=np.uint8)
            arrays[f"idf_{block.name}"] = block.idf
        return arrays

    @classmethod
    def from_arrays(cls, config: FeatureConfig, arrays: dict[str, np.ndarray]) -> FeatureSpace:
        """The inverse of `to_arrays`; raises KeyError or ValueError on arrays that do not fit."""
        blocks: list[Block] = []
        offset = 0
        for name in cls.block_names(config):
            raw = arrays[f"terms_{name}"].tobytes().decode("utf-8")
            terms = tuple(raw.split(_TERM_SEPARATOR)) if raw else ()
            idf = np.asarray(arrays[f"idf_{name}"], dtype=np.float32)
            if idf.shape != (len(terms),):
                raise ValueError(f"block {name}: {len(terms)} terms but {idf.shape} idf values")
            index = {t: i for i, t in enumerate(terms)}
            if len(index) != len(terms):
                raise ValueError(f"block {name}: repeated terms")
            weight = cls.block_weight(name, config)
            blocks.append(Block(name, terms, idf, weight, offset, index))
            offset += len(terms)
        return cls(config, blocks)


class LabelNames:
    """Which labels a normalised text names, each by a name of its own (its label string, or
    an alias): 「请住房和城乡建设局核实」 names 住房和城乡建设局.

    Longest match: a name inside a longer name found at that place does not count, so
    「公安局交通警察支队」 names 公安局交通警察支队 but not 公安局; 「公安局」 alone names 公安局.
    A name is two or more characters with Chinese in it, so a department code never counts.
    """

    def __init__(self, names: Iterable[tuple[str, int]], n_labels: int) -> None:
        labels_of: dict[str, set[int]] = {}
        for name, label in names:
            form = normalize(name, strip_boilerplate=False)
            if len(form) >= 2 and has_chinese(form):
                labels_of.setdefault(form, set()).add(label)
        self.n_labels = n_labels
        # Longest first, so a label named twice keeps its longest name (shown in reasons).
        self._names = sorted(labels_of, key=lambda s: (-len(s), s))
        self._labels = [tuple(sorted(labels_of[s])) for s in self._names]
        # Each name's places inside the longer names: (longer name, offset of the name in it).
        self._inside = [
            [
                (longer, at)
                for longer in self._names
                if len(longer) > len(name)
                for at in range(len(longer) - len(name) + 1)
                if longer.startswith(name, at)
            ]
            for name in self._names
        ]

    @classmethod
    def of(cls, labels: Sequence[str], aliases: Mapping[str, str] | None = None) -> LabelNames:
        """Each label's own string, and the aliases (other name → label) of labels it has."""
        index = {label: i for i, label in enumerate(labels)}
        names = [(label, i) for i, label in enumerate(labels)]
        aliases = aliases or {}
        names += [(alias, index[label]) for alias, label in aliases.items() if label in index]
        return cls(names, len(labels))

    def find(self, text: str) -> dict[int, str]:
        """label index → the (longest) name of it the text contains as a longest match."""
        found: dict[int, str] = {}
        for name, labels, inside in zip(self._names, self._labels, self._inside, strict=True):
            if name not in text or all(label in found for label in labels):
                continue
            at = text.find(name)
            while at >= 0:
                if not any(at >= k and text.startswith(longer, at - k) for longer, k in inside):
                    for label in labels:
                        found.setdefault(label, name)
                    break
                at = text.find(name, at + 1)
        return found

    def indicator(self, texts: Sequence[str]) -> np.ndarray:
        """rows × labels, 1.0 where the text names the label (see `find`), else 0.0."""
        named = np.zeros((len(texts), self.n_labels), dtype=np.float32)
        for row, text in enumerate(texts):
            for label in self.find(text):
                named[row, label] = 1.0
        return named
