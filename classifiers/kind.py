"""What a filing is — 投诉 complaint, 举报 tip-off or 咨询 inquiry — from its own words.

Weighted cue phrases, scored per kind; the strongest kind wins. A filing with strong cues
for both a consumer dispute and a violation is flagged for splitting: the 2022 rule has
such a filing handled as two, a complaint and a tip-off. A question about reporting
(怎么举报, 举报电话) is an inquiry: its 举报 is not a tip-off. A kind the caller denies
(不是要举报, 不想投诉) does not count for it.
"""

from __future__ import annotations

import re
from dataclasses import dataclass

from schemas.enums import Kind

# Asking how to report, or about reporting's channels and rewards: an inquiry, whose 举报
# is no tip-off.
_ABOUT_REPORTING = (
    r"(如何|怎么|怎样|到哪里?|去哪里?|向哪里|向谁)举报",
    r"举报(电话|热线|奖励|奖金|流程|程序|方式|途径|渠道)",
)
_CUES: dict[Kind, tuple[tuple[str, float], ...]] = {
    Kind.inquiry: (
        ("咨询", 2.0),
        ("请问", 2.0),
        ("想问", 2.0),
        ("问一下", 2.0),
        ("想了解", 1.5),
        ("询问", 1.5),
        *((pattern, 2.0) for pattern in _ABOUT_REPORTING),
        (r"(如何|怎么|怎样)(办理|申请|处理|查询|认定)", 1.5),
        (r"(需要|要)(准备|提供)(哪些|什么)", 1.5),
        (r"(哪里|哪个部门|什么部门|什么时候|多少钱|电话是多少|是什么)", 1.0),
        (r"(是否|能否|可否|可不可以|能不能)", 0.5),
    ),
    Kind.tip: (
        ("举报", 3.0),
        (r"(无证|无照|无牌)(经营|生产|销售|行医)?", 2.0),
        (r"(依法|严厉|予以|请)?查处", 2.0),
        ("取缔", 2.0),
        ("黑作坊", 2.0),
        ("传销", 2.0),
        (r"(偷税|漏税|逃税)", 2.0),
        ("走私", 2.0),
        ("涉嫌", 1.5),
        (r"(违法|非法)", 1.5),
        ("违规", 1.0),
        (r"(假冒|伪劣|售假|制假|山寨)", 1.5),
        ("虚假宣传", 1.5),
        (r"(偷排|乱排|排污)", 1.5),
        (r"(以次充好|掺假|掺杂)", 1.5),
    ),
    Kind.complaint: (
        ("投诉", 2.0),
        (r"(退款|退货|退费|退钱|退还)", 2.0),
        (r"(赔偿|赔付|索赔)", 2.0),
        ("维权", 2.0),
        (r"(不给|拒绝|不予|不肯|不同意)(退|换|赔|维修|处理)", 2.0),
        (r"(换货|三包|保修|售后)", 1.5),
        (r"要求(退|换|赔|修|更换|返还|解决)", 1.5),
        (r"(要求|希望)(商家|对方|店家|公司|厂家)", 1.5),
        (r"(我|本人|其)(在|于)?.{0,12}(购买|买了|买的|办了|充值|消费)", 1.5),
        (r"(消费|购买|买了|充值)", 1.0),
        (r"(质量问题|坏了|损坏|故障|异响|维修|没修好)", 1.0),
    ),
}
_COMPILED = {
    kind: tuple((re.compile(pattern), weight) for pattern, weight in cues)
    for kind, cues in _CUES.items()
}
_QUESTIONS = re.compile("|".join(_ABOUT_REPORTING))
# The words that name a kind, which a caller may deny; a demand's cue is not negated, since
# 没有退款 is the grievance itself.
_NAMES_A_KIND = frozenset({"咨询", "举报", "投诉", "维权"})
# A denial up to two characters before the word (不是要举报, 并不想投诉), in the same clause.
_DENIED = re.compile(r"(不是|没有|不想|并非|不要)[^，。！？；,.!?;\s]{0,2}$")
# Strong evidence on both sides, each at least one decisive cue.
SPLIT_MIN_SCORE = 2.0
# Ties go to the kind that protects the citizen more: a tip is acted on, a complaint mediated.
_TIE_ORDER = (Kind.tip, Kind.complaint, Kind.inquiry)


@dataclass(frozen=True)
class KindGuess:
    kind: Kind
    confidence: float  # share of all cue weight that went to `kind`; 0 when nothing matched
    reasons: tuple[str, ...]  # the phrases that decided it, as written in the text
    split_suggested: bool  # holds both a complaint and a tip-off


def detect_kind(text: str) -> KindGuess:
    scores: dict[Kind, float] = {}
    evidence: dict[Kind, list[str]] = {}
    questions = [m.span() for m in _QUESTIONS.finditer(text)]
    for kind, cues in _COMPILED.items():
        found: list[str] = []
        total = 0.0
        for pattern, weight in cues:
            denies = pattern.pattern in _NAMES_A_KIND
            matches = [
                m.group(0)
                for m in pattern.finditer(text)
                if not (kind is Kind.tip and _inside(m.span(), questions))
                and not (denies and _DENIED.search(text, max(0, m.start() - 4), m.start()))
            ]
            if matches:
                total += weight
                found.extend(dict.fromkeys(matches))
        scores[kind] = total
        evidence[kind] = found
    if text.rstrip().endswith(("？", "?")):
        scores[Kind.inquiry] += 1.0
    overall = sum(scores.values())
    if overall == 0:
        # Nothing to go on: most filings to a complaints hotline are complaints.
        return KindGuess(Kind.complaint, 0.0, (), False)
    best = max(_TIE_ORDER, key=lambda k: (scores[k], -_TIE_ORDER.index(k)))
    split = scores[Kind.complaint] >= SPLIT_MIN_SCORE and scores[Kind.tip] >= SPLIT_MIN_SCORE
    return KindGuess(
        kind=best,
        confidence=scores[best] / overall,
        reasons=tuple(evidence[best][:6]),
        split_suggested=split,
    )


def _inside(span: tuple[int, int], spans: list[tuple[int, int]]) -> bool:
    return any(start <= span[0] and span[1] <= end for start, end in spans)
