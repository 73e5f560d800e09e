"""Which of its department's sectors a filing is about, when something says so.

The registry's keywords belong to departments, not sectors, so the sector is known only
when: the filing names it (Open311's service code), the department has a single sector, or
the text uses a distinctive word of a sector's name (特种设备, 物业, 供热, 药品 …). Otherwise
it stays unknown, and statistics count the filing as "sector not stated".
"""

from __future__ import annotations

from collections.abc import Mapping

from classifiers.tokenizer import Tokenizer, shared_tokenizer

# Words of sector names that say nothing about which sector (产品质量 → 质量, 服务 …).
_GENERIC = frozenset(
    {"产品", "质量", "服务", "安全", "经营", "管理", "工程", "业", "与", "和", "及", "保护", "物品"}
)


def tokenizer() -> Tokenizer:
    """jieba with its own dictionary only, loaded once per process (the worker's warm-up)."""
    return shared_tokenizer()


def sector_words(label: str) -> list[str]:
    """The distinctive words of a sector's name, longest first (the name itself included)."""
    words = {label} | {
        word
        for word in tokenizer().tokenize(label, hmm=False)
        if len(word) >= 2 and word not in _GENERIC
    }
    return sorted(words, key=len, reverse=True)


def guess_sector(*, sectors: list[str], labels: Mapping[str, str], text: str) -> str | None:
    """The sector among `sectors` (codes; `labels` names them) the text is about, or None."""
    if len(sectors) == 1:
        return sectors[0]
    best: tuple[int, int, str] | None = None
    for order, code in enumerate(sectors):
        hits = sum(text.count(word) * len(word) for word in sector_words(labels.get(code, "")))
        # More matched characters win; on a tie, the sector the registry lists first.
        if hits and (best is None or (hits, -order) > best[:2]):
            best = (hits, -order, code)
    return best[2] if best else None
