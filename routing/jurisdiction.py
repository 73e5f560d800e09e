"""Which place's office handles a filing, and on what ground (DOMAIN.md, jurisdiction).

In order:
1. the place an operator gave (they heard the caller);
2. the business's address (or the region given with it), the free text refining it: a
   complaint goes where the business operates;
3. for a complaint naming an e-commerce platform with no address of the seller: where the
   platform is registered (SAMR Order 121). A platform whose sellers are local shops (外卖)
   yields to a place the text names, as that is where the shop is;
4. the places the free text names;
5. none: the department's broadest office passes it on.
The ground is stored with the routing decision and shown to staff, with whether the place
lies outside the deployment's province (its office there cannot act; it forwards).
"""

from __future__ import annotations

from dataclasses import dataclass, replace
from typing import Any

from classifiers.place import Gazetteer, Place
from routing.platforms import Mention, PlatformIndex
from schemas.enums import Kind

_GROUNDS = {
    "operator": "接线员指定地区",
    "business_address": "经营者地址",
    "platform": "平台注册地",
    "text": "诉求内容所述地区",
    "none": "未识别地区",
}


@dataclass(frozen=True)
class Ground:
    rule: str  # a key of _GROUNDS
    mention: Mention | None = None  # the platform, under the platform rule
    outside: bool = False  # the place lies outside the deployment's province

    def as_dict(self) -> dict[str, Any]:
        platform = self.mention.platform if self.mention else None
        return {
            "rule": self.rule,
            "label": _GROUNDS[self.rule],
            "platform": {
                "code": platform.code,
                "name": platform.name,
                "operator": platform.operator,
                "matched": self.mention.name if self.mention else None,
            }
            if platform
            else None,
            "outside_jurisdiction": self.outside,
        }


def locate_filing(
    *,
    text: str,
    business_name: str | None,
    business_address: str | None,
    region: str | None,
    hinted_place: str | None,
    kind: Kind,
    places: Gazetteer,
    platforms: PlatformIndex,
) -> tuple[Place | None, Ground]:
    """The place whose office handles the filing, and why."""
    if hinted_place and (place := places.locate(hinted_place)) is not None:
        return place, _ground("operator", place, places)
    # One scan: the address and region first, the text refining them, or read alone when
    # they name no place; a name found in them says which it was.
    place = places.locate(business_address, region, text)
    given = [t for t in (business_address, region) if t]
    if place is not None and any(name in t for name in place.matched for t in given):
        return place, _ground("business_address", place, places)
    in_text = place
    mention = platforms.find(business_name, text) if kind is Kind.complaint else None
    if mention is not None and not (mention.platform.local_sellers and in_text is not None):
        place = replace(mention.platform.place, matched=(mention.name,))
        return place, _ground("platform", place, places, mention)
    if in_text is not None:
        return in_text, _ground("text", in_text, places)
    return None, Ground("none")


def _ground(rule: str, place: Place, places: Gazetteer, mention: Mention | None = None) -> Ground:
    home = places.home_province
    return Ground(rule, mention, outside=home is not None and place.province != home)


def ground_note(stored: dict[str, Any] | None) -> str | None:
    """A stored ground as staff read it: 平台注册地（京东，北京京东…有限公司），不在本省."""
    if not stored or stored.get("rule") not in _GROUNDS:
        return None
    note = _GROUNDS[stored["rule"]]
    platform = stored.get("platform")
    if platform:
        note += f"（{platform.get('name')}，{platform.get('operator')}）"
    if stored.get("outside_jurisdiction"):
        note += "，不在本省管辖范围，由省级承办机构移送"
    return note
