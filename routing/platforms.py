"""E-commerce platforms: which one a filing names, and where it is registered.

Jurisdiction (DOMAIN.md; SAMR Order 121): a complaint about a seller on an e-commerce
platform goes where the seller operates, and where the seller has no address the consumer
can give, where the platform is registered (its 住所地); a complaint about the platform or
its own shop (京东自营) goes there too. The registry lists the platforms with their
registered places (`platforms:`), so a deployment keeps them as it keeps its departments.
"""

from __future__ import annotations

import re
from collections.abc import Iterable
from dataclasses import dataclass
from typing import Annotated, Any

from pydantic import BaseModel, ConfigDict, Field, StringConstraints

from classifiers.place import Gazetteer, Place
from classifiers.tokenizer import shared_tokenizer

Name = Annotated[str, StringConstraints(strip_whitespace=True, min_length=2, max_length=30)]


class PlatformSpec(BaseModel):
    """One platform as the registry file writes it."""

    model_config = ConfigDict(extra="forbid")

    code: Annotated[str, StringConstraints(pattern=r"^[a-z][a-z0-9_]{1,31}$")]
    name: Name
    aliases: list[Name] = Field(default_factory=list)
    operator: Annotated[str, StringConstraints(strip_whitespace=True, min_length=2, max_length=100)]
    place: Annotated[str, StringConstraints(strip_whitespace=True, min_length=2, max_length=60)]

    @property
    def names(self) -> tuple[str, ...]:
        return tuple(dict.fromkeys((self.name, *self.aliases)))


@dataclass(frozen=True)
class Platform:
    code: str
    name: str
    names: tuple[str, ...]
    operator: str
    place: Place

    def stored(self) -> dict[str, Any]:
        """The platform as a registry load keeps it (JSON)."""
        return {
            "code": self.code,
            "name": self.name,
            "names": list(self.names),
            "operator": self.operator,
            "place": {
                "province": self.place.province,
                "city": self.place.city,
                "county": self.place.county,
                "code": self.place.code,
            },
        }

    @classmethod
    def from_stored(cls, row: dict[str, Any]) -> Platform:
        return cls(
            code=row["code"],
            name=row["name"],
            names=tuple(row["names"]),
            operator=row["operator"],
            place=Place(**row["place"]),
        )


def resolve(specs: Iterable[PlatformSpec], places: Gazetteer) -> list[Platform]:
    """The registry's platforms with their places resolved; ValueError names a bad entry."""
    platforms: list[Platform] = []
    seen: dict[str, str] = {}  # name → the code of the platform it names
    for spec in specs:
        if any(p.code == spec.code for p in platforms):
            raise ValueError(f"platforms: code {spec.code!r} is repeated")
        for name in spec.names:
            if name in seen:
                raise ValueError(
                    f"platforms.{spec.code}: name {name!r} already names platform {seen[name]}"
                )
            seen[name] = spec.code
        place = places.locate(spec.place)
        if place is None or place.code is None:
            raise ValueError(
                f"platforms.{spec.code}: place {spec.place!r} is not a known province, city or "
                "county (write it in full, e.g. 浙江省杭州市余杭区)"
            )
        platforms.append(
            Platform(
                code=spec.code,
                name=spec.name,
                names=spec.names,
                operator=spec.operator,
                place=Place(
                    province=place.province, city=place.city, county=place.county, code=place.code
                ),
            )
        )
    return platforms


@dataclass(frozen=True)
class Mention:
    platform: Platform
    name: str  # the words that named it


class PlatformIndex:
    """Finds the platform a text names: the leftmost name, the longest at one place."""

    def __init__(self, platforms: Iterable[Platform]):
        self.platforms = tuple(platforms)
        by_name = {name: p for p in self.platforms for name in p.names}
        self._names = sorted(by_name.items(), key=lambda item: -len(item[0]))
        # Most texts name no platform: one regular-expression pass tells.
        self._any = re.compile("|".join(re.escape(name) for name, _ in self._names) or "(?!)")

    def find(self, *texts: str | None) -> Mention | None:
        """The platform the first text that names one names (business name, then free text)."""
        for text in texts:
            if text and (found := self._first(text)) is not None:
                return found
        return None

    def _first(self, text: str) -> Mention | None:
        if self._any.search(text) is None:
            return None
        hits: list[tuple[int, int, str, Platform]] = []
        for name, platform in self._names:
            start = text.find(name)
            while start >= 0:
                hits.append((start, -len(name), name, platform))
                start = text.find(name, start + 1)
        if not hits:
            return None
        bounds = shared_tokenizer().word_bounds(text)
        for start, negative_length, name, platform in sorted(hits, key=lambda h: h[:2]):
            end = start - negative_length
            if _names_it(bounds, start, end) and not _STORE.match(text, end):
                return Mention(platform, name)
        return None


# A platform's shop in a street (苏宁易购门店, 京东之家) is a business with an address.
_STORE = re.compile(r"(?:线下)?(?:门店|实体店|体验店|专卖店|专柜|之家|超市店|营业厅)")


def _names_it(bounds: frozenset[int], start: int, end: int) -> bool:
    """Whether the name from `start` to `end` stands as a name among jieba's words.

    Not inside a longer word (京东方 is a display maker, not 京东), nor straddling two words
    on both sides. jieba does not know most platforms' names (拼 + 多多, 美 + 团), so a name
    made of several words counts.
    """
    inner = any(start < b < end for b in bounds)
    if not inner:
        return start in bounds and end in bounds
    return start in bounds or end in bounds
