"""Where a filing is about: province / city / county, found in an address or free text.

The administrative divisions and their short names come from jionlp's maintained
gazetteer (china_location, with 6-digit codes); matching is our own longest-match scan
over that index, because jionlp's own parser expects a text that starts with an address.
Ambiguous names (龙华区 is in 海口 and in 深圳) are settled by the other places the text
names, then by the deployment's home province, else left at the level all readings share.
A name that jieba's words straddle (大厦门口: 大厦 + 门口) is no place.
"""

from __future__ import annotations

import contextlib
import io
import re
import threading
from collections import defaultdict
from collections.abc import Iterable
from dataclasses import dataclass, field
from typing import Any

from classifiers.tokenizer import shared_tokenizer

LEVELS = ("province", "city", "county")
# Full names that are also everyday words or repeat in many cities: never matched alone,
# only after their city's name (阳泉市郊区, 阳泉郊区).
_AMBIGUOUS_WORDS = frozenset(
    {"城区", "郊区", "矿区", "新区", "市辖区", "开发区", "高新区", "示范区"}
)
# Short names (小店 for 小店区) that are everyday words; the full name still matches.
_COMMON_WORD_ALIASES = frozenset(
    {"小店", "城区", "郊区", "矿区", "新区", "市中", "中山", "河口", "东区", "西区", "南区", "北区"}
)
# What may follow a county's short name for it to name the county: a suffix (白沙县 for
# 白沙黎族自治县), or a word that makes it a place (平遥古城); not a further word (永和豆浆,
# 东方向, 白沙门). Punctuation, digits and the end of the text are boundaries too.
_COUNTY_SUFFIXES = frozenset("县市区旗")
_PLACE_WORDS = ("古城", "县城", "老城", "城区", "境内", "一带")
# What makes a city's or province's short name part of a street's or a smaller place's name:
# a road (大同路, 中山北路 and 山东一街 are streets of 海口, 长治路 one of 太原), a place
# below a county (东营镇, 玉林村, 桂林社区, 大同派出所), Hainan's 洋 (桂林洋), each maybe
# after a direction or a number. Not 路费/路程/路线/路况/路过, 街上/街头 or 洋浦 (三亚路费,
# 在北京街头, 海南洋浦); not the landmarks a city names after itself (海口湾, 海口大厦 and
# 海口公园 lie in 海口), nor 道 (道路, 道歉), 里 (北京三里屯) or 胡同 (北京胡同).
_STREET = re.compile(
    r"(?:[东西南北中]|[一二三四五六七八九十]+横?)?"
    r"(?:路(?![费途程线况过])|街(?![上头])|大街|大道|巷|镇|村|社区|派出所|洋(?!浦))"
)


@dataclass(frozen=True)
class Division:
    level: str
    province: str
    city: str | None
    county: str | None
    code: str

    def contains(self, other: Division) -> bool:
        return other.code.startswith(_prefix(self))


@dataclass(frozen=True)
class Sense:
    """A division a name may stand for."""

    division: Division
    # By a short name (大同 for 大同市). A city's or province's is no place before a street
    # word (大同路) or right after a county's name (小店区长治路); a county's, see `bare`.
    short: bool

    @property
    def bare(self) -> bool:
        """By a county's short name (平遥 for 平遥县): a place only at a boundary or with its
        city named too, and weaker than any full name (太原市) or a city's short name (太原)."""
        return self.short and self.division.level == "county"


# A name found in a text, with every division it may stand for.
Match = tuple[str, tuple[Sense, ...]]
# A division with its full names and its short ones.
Entry = tuple[Division, list[str], list[str]]


def _prefix(division: Division) -> str:
    if division.level == "province" or division.code[2:4] == "00":  # municipalities' city
        return division.code[:2]
    return division.code[:4] if division.level == "city" else division.code


@dataclass(frozen=True)
class Place:
    """A place as precise as the words allow; `code` is the most specific division's code."""

    province: str | None = None
    city: str | None = None
    county: str | None = None
    code: str | None = None
    matched: tuple[str, ...] = field(default=(), compare=False)

    @property
    def level(self) -> str | None:
        if self.county:
            return "county"
        if self.city:
            return "city"
        return "province" if self.province else None

    @property
    def label(self) -> str:
        # 北京市北京市东城区 → 北京市东城区: municipalities are their own city.
        parts = [self.province, self.city if self.city != self.province else None, self.county]
        return "".join(p for p in parts if p)

    def as_dict(self) -> dict[str, Any]:
        return {
            "province": self.province,
            "city": self.city,
            "county": self.county,
            "code": self.code,
            "label": self.label,
            "matched": list(self.matched),
        }


class Gazetteer:
    """Every division's names, indexed for a longest-match scan; built once per process.

    Each entry is a division with its full names and its short ones. Counties' short names
    (平遥 for 平遥县) are indexed only in the home province, where they are what people write.
    """

    def __init__(self, entries: Iterable[Entry], home: str | None):
        self.home_province = home
        senses: dict[str, dict[Sense, None]] = defaultdict(dict)
        self.divisions: list[Division] = []
        for division, names, short in entries:
            self.divisions.append(division)
            county = division.level == "county"
            for name in names:
                senses[name][Sense(division, short=False)] = None
            if county and division.province != home:
                continue
            for name in short:
                senses[name][Sense(division, short=True)] = None
        self._index: dict[str, tuple[Sense, ...]] = {
            name: tuple(found) for name, found in senses.items() if name not in _AMBIGUOUS_WORDS
        }
        # For each first character, the lengths of the names that start with it, longest
        # first: most positions of a text start no name at all and cost one look-up.
        lengths: dict[str, set[int]] = defaultdict(set)
        for name in self._index:
            lengths[name[0]].add(len(name))
        self._lengths_by_first = {c: sorted(ls, reverse=True) for c, ls in lengths.items()}

    def find_name(self, name: str) -> list[Division]:
        return list(dict.fromkeys(s.division for s in self._index.get(name, ())))

    def scan(self, text: str) -> list[Match]:
        """Leftmost-longest matches of division names in `text`, where they name a place.

        A city's or province's short name followed by a street word names the street (大同路
        and 桂林洋 in 海口), and one right after a county's name is the rest of that address
        (太原市小店区长治路): no city or province comes after a county. A county's short name
        counts only before a boundary, or when the text names its city too (海口秀英港; the
        province for a county directly under it). 永和豆浆 is a restaurant, 东方向 a
        direction, 五指山路 a street in 海口.
        """
        found = [
            (start, name, _unless_a_street(text, start + len(name), senses))
            for start, name, senses in self._names(text)
        ]
        named = {_area(s.division) for _, _, senses in found for s in senses if not s.bare}
        matches: list[Match] = []
        county_end = -1  # where the last name read as a county ends
        for start, name, senses in found:
            end = start + len(name)
            if not _at_boundary(text, end):
                senses = tuple(s for s in senses if not s.bare or _parent(s.division) in named)
            if start == county_end:
                senses = _without_short_areas(senses)
            if senses:
                matches.append((name, senses))
                if any(s.division.level == "county" for s in senses):
                    county_end = end
        return matches

    def _names(self, text: str) -> list[tuple[int, str, tuple[Sense, ...]]]:
        """Every division name in `text`, leftmost-longest, with where it starts.

        A name that straddles two of jieba's words (`_straddles_words`) is none: a shorter one
        at its start may still be, and the scan goes on at the next character. The text is
        segmented only once a name is met, as many texts name no place.
        """
        found: list[tuple[int, str, tuple[Sense, ...]]] = []
        index, by_first = self._index, self._lengths_by_first
        bounds: frozenset[int] | None = None
        i, end = 0, len(text)
        while i < end:
            step = 1
            for length in by_first.get(text[i], ()):
                if i + length <= end and (name := text[i : i + length]) in index:
                    if bounds is None:
                        bounds = shared_tokenizer().word_bounds(text)
                    if not _straddles_words(bounds, i, i + length):
                        found.append((i, name, index[name]))
                        step = length
                        break
            i += step
        return found

    def locate(self, *texts: str | None) -> Place | None:
        """The place the texts are about, given most reliable first: address, region, free text.

        A later text only refines what the earlier ones found: its names count where they
        lie within or enclose one of those readings (the county under the address's city),
        never elsewhere, so a place mentioned in passing does not outweigh the address. It is
        read on its own only when the earlier texts name no place.
        """
        matches: list[Match] = []
        for text in texts:
            if not text:
                continue
            found = self.scan(text)
            if matches:
                found = _within(found, self._readings(matches))
            matches += found
        if not matches:
            return None
        finest = self._readings(matches)
        names = tuple(dict.fromkeys(name for name, _ in matches))
        if len(finest) == 1:
            return _place(finest[0], names)
        # Several equally good readings: keep only what they agree on.
        common = _common_ancestor(finest)
        return _place(common, names) if common else None

    def _readings(self, matches: list[Match]) -> list[Division]:
        """The most specific of the best supported divisions the matches may stand for."""
        by_name: dict[str, set[Sense]] = defaultdict(set)
        for name, senses in matches:
            by_name[name].update(senses)
        candidates = {s.division for senses in by_name.values() for s in senses}

        # A reading is supported by each distinct name that is it or one of its enclosing
        # divisions (山西省 长治市 潞州区 all support 潞州区; a passing 太原 supports only
        # 太原市), a repeated name once: other names first, then counties' short names
        # (太原市 outweighs 长子 for 长子县); the home province breaks ties between
        # same-named divisions elsewhere.
        def support(division: Division) -> tuple[int, int, bool]:
            firm = bare = 0
            for senses in by_name.values():
                covering = [s for s in senses if s.division.contains(division)]
                if any(not s.bare for s in covering):
                    firm += 1
                elif covering:
                    bare += 1
            return firm, bare, division.province == self.home_province

        rank = {level: i for i, level in enumerate(LEVELS)}
        scores = {d: support(d) for d in candidates}
        best = max(scores.values())
        top = [d for d, score in scores.items() if score == best]
        deepest = max(rank[d.level] for d in top)
        return [d for d in top if rank[d.level] == deepest]

    def __len__(self) -> int:
        return len(self.divisions)


def _area(division: Division) -> tuple[str, str, str | None]:
    return division.level, division.province, division.city


def _parent(county: Division) -> tuple[str, str, str | None]:
    """The city a county lies in, or its province when it lies directly under it."""
    return ("city" if county.city else "province"), county.province, county.city


def _at_boundary(text: str, end: int) -> bool:
    """Whether a name ending at `end` is not the start of a longer word."""
    if end == len(text) or not text[end].isalpha() or text[end] in _COUNTY_SUFFIXES:
        return True
    return text.startswith(_PLACE_WORDS, end)


def _straddles_words(bounds: frozenset[int], start: int, end: int) -> bool:
    """Whether a name from `start` to `end` straddles two words, given the word boundaries:
    its head ends a word begun before it, its tail begins one that goes on after it.

    大厦门口 is 大厦 + 门口, no 厦门, and 几天水压 no 天水. A cut on one side only is
    not enough, as jieba's own words overrun real names there: 迁入海口 cuts as 入海口
    (an estuary), 海南海汽集团 as 海 + 南海, 广西北海 is one word.
    """
    return start not in bounds and end not in bounds


def _unless_a_street(text: str, end: int, senses: tuple[Sense, ...]) -> tuple[Sense, ...]:
    """The senses of a name ending at `end`, if a street word follows: a street's name."""
    return _without_short_areas(senses) if _STREET.match(text, end) else senses


def _without_short_areas(senses: tuple[Sense, ...]) -> tuple[Sense, ...]:
    """Without the cities and provinces a short name may stand for (大同 for 大同市).

    Counties' short names keep their own rule (`Sense.bare`): a road after one named with
    its city usually lies in it (海口龙华路 in 龙华区).
    """
    return tuple(s for s in senses if not s.short or s.bare)


def _within(matches: list[Match], readings: list[Division]) -> list[Match]:
    """The matches narrowed to divisions inside or around one of the readings."""
    narrowed: list[Match] = []
    for name, senses in matches:
        kept = tuple(
            s
            for s in senses
            if any(r.contains(s.division) or s.division.contains(r) for r in readings)
        )
        if kept:
            narrowed.append((name, kept))
    return narrowed


def _place(division: Division, matched: tuple[str, ...]) -> Place:
    return Place(
        province=division.province,
        city=division.city,
        county=division.county,
        code=division.code,
        matched=matched,
    )


def _common_ancestor(divisions: list[Division]) -> Division | None:
    provinces = {d.province for d in divisions}
    if len(provinces) != 1:
        return None
    cities = {d.city for d in divisions}
    code = divisions[0].code
    if len(cities) == 1 and divisions[0].city:
        return Division("city", divisions[0].province, divisions[0].city, None, code[:4] + "00")
    return Division("province", divisions[0].province, None, None, code[:2] + "0000")


def _aliases(value: Any) -> list[str]:
    if not value:
        return []
    return [value] if isinstance(value, str) else [a for a in value if a]


def _jionlp_divisions() -> list[Entry]:
    with contextlib.redirect_stdout(io.StringIO()):  # jionlp prints a banner on import
        from jionlp.dictionary.dictionary_loader import china_location_loader

        tree = china_location_loader(detail=True)
    entries: list[Entry] = []
    for province, p_node in tree.items():
        entries.append(
            (
                Division("province", province, None, None, p_node["_admin_code"]),
                [province],
                _short(province, p_node, 1),
            )
        )
        for city, c_node in _children(p_node):
            if _pseudo(city):  # 文昌市 under 海南省's 省直辖行政区划: directly under the province
                entries += _counties(province, None, [], c_node)
                continue
            city_names = [city, *_short(city, c_node, 2)]
            entries.append(
                (
                    Division("city", province, city, None, c_node["_admin_code"]),
                    city_names[:1],
                    city_names[1:],
                )
            )
            entries += _counties(province, city, city_names, c_node)
    return entries


def _counties(
    province: str, city: str | None, city_names: list[str], c_node: dict[str, Any]
) -> list[Entry]:
    entries: list[Entry] = []
    for county, k_node in _children(c_node):
        if _pseudo(county):  # 儋州市's 市直辖行政区划, with the city's own code: no place
            continue
        short = _short(county, k_node, 2)
        generic = [n for n in (county, *short) if n in _AMBIGUOUS_WORDS]
        entries.append(
            (
                Division("county", province, city, county, k_node["_admin_code"]),
                [county, *(c + n for c in city_names for n in generic)],
                [a for a in short if a not in _COMMON_WORD_ALIASES],
            )
        )
    return entries


def _children(node: dict[str, Any]) -> list[tuple[str, dict[str, Any]]]:
    return [(k, v) for k, v in node.items() if not k.startswith("_") and isinstance(v, dict)]


def _pseudo(name: str) -> bool:
    """jionlp's 省直辖行政区划 / 市直辖行政区划: a grouping of divisions, not a place."""
    return name.endswith("直辖行政区划")


def _short(name: str, node: dict[str, Any], shortest: int) -> list[str]:
    return [a for a in _aliases(node.get("_alias")) if len(a) >= shortest and a != name]


_lock = threading.Lock()
_cache: dict[str | None, Gazetteer] = {}
_entries: list[Entry] | None = None


def gazetteer(home_province: str | None = None) -> Gazetteer:
    """The process's gazetteer for a home province (loaded once: ~0.5 s)."""
    global _entries
    with _lock:
        if home_province not in _cache:
            if _entries is None:
                _entries = _jionlp_divisions()
            _cache[home_province] = Gazetteer(_entries, home_province)
        return _cache[home_province]
