"""Which place's office handles a filing, and on what ground (DOMAIN.md, jurisdiction).

In order:
1. the place an operator gave (they heard the caller);
2. the business's address (or the region given with it), the free text refining it: a
   complaint goes where the business operates;
3. the places the free text names (the seller's, or where it was bought; for a seller on a
   platform, where it operates is as lawful a choice as where the platform is registered,
   and the office that receives a complaint first may handle it);
4. for a complaint naming an e-commerce platform and no place at all: where the platform is
   registered (SAMR Order 121: a platform seller with no reachable address);
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
    if place is not None:  # the places the text names: the seller's, or where it was bought
        return place, _ground("text", place, places)
    mention = platforms.find(business_name, text) if kind is Kind.complaint else None
    if mention is not None:
        place = replace(mention.platform.place, matched=(mention.name,))
        return place, _ground("platform", place, places, mention)
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


def where_to_go(payload: dict[str, Any] | None) -> str | None:
    """For a filing routed to a place outside the province: where the citizen should go, as
    a refusal for lack of jurisdiction tells them (DOMAIN: a bureau without authority says
    where to go). None when the place is the province's own or unknown."""
    if not payload:
        return None
    stored, place = payload.get("jurisdiction") or {}, payload.get("place") or {}
    if not stored.get("outside_jurisdiction") or not place.get("label"):
        return None
    platform = stored.get("platform")
    if stored.get("rule") == "platform" and platform:
        about = (
            f"您投诉的是{platform.get('name')}平台上的经营者，未提供其实际经营地址；"
            f"该平台经营者（{platform.get('operator')}）的注册地在{place['label']}"
        )
    elif stored.get("rule") == "text":
        about = f"据投诉内容，被投诉经营者在{place['label']}"
    else:
        about = f"被投诉经营者在{place['label']}"
    return (
        f"{about}，不属于本机关管辖。请向{place['label']}市场监督管理部门投诉，"
        "或通过全国12315平台（www.12315.cn）提交。"
    )
