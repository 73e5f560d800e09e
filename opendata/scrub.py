"""Free text made fit to publish: no phone, ID card, plate, bank or e-mail numbers, no names
of private persons.

Numbers are found by jionlp's extractors (mobile and landline phones, ID cards, motor
vehicle plates, e-mail) and, as a net under them, any run of seven or more digits however
it is spaced (bank cards, QQ numbers, numbers jionlp's patterns miss). Names are found by
jieba's part-of-speech tagger (person names, tag `nr`) and by the forms people are named
in (王先生, 李女士, 姓张, 我叫…, 联系人…). It errs on the side of taking out too much: a shop
named after its owner loses the name too.
"""

from __future__ import annotations

import logging
import re
import threading
import warnings
from typing import Any

PHONE = "[电话]"
ID_NUMBER = "[证件号]"
PLATE = "[车牌号]"
NUMBER = "[号码]"
EMAIL = "[邮箱]"
PERSON = "某某"

_DIGIT_RUN = re.compile(r"(?<![0-9A-Za-z])(?:\+?86[\s-]?)?\d(?:[\s\-－—]?\d){6,}[0-9Xx]?")
_EMAIL = re.compile(r"[A-Za-z0-9._%+\-]+@[A-Za-z0-9.\-]+\.[A-Za-z]{2,}")
_PLATE = re.compile(
    r"[京津沪渝冀豫云辽黑湘皖鲁新苏浙赣鄂桂甘晋蒙陕吉闽贵粤青藏川宁琼使领]"
    r"\s*[A-Z]\s*[·•\.\-]?\s*[A-HJ-NP-Z0-9]{4,6}[挂学警港澳]?"
)
_SURNAME_FORMS = re.compile(
    r"([\u4e00-\u9fff])(?=(?:先生|女士|小姐|师傅|老师|经理|大爷|大妈|阿姨|大姐|大哥|同志|老板))"
)
_NAMED_AS = re.compile(
    r"(我叫|名叫|叫做|姓名[:：]?|联系人[:：]?|本人|投诉人[:：]?|举报人[:：]?|签名[:：]?)"
    r"\s*([\u4e00-\u9fff]{2,4}?)(?=[，,。.；;、\s]|电话|手机|身份证|住|家住|$)"
)
_SURNAME_IS = re.compile(
    r"(姓)([\u4e00-\u9fff])(?=[\u4e00-\u9fff]{0,2}(?:的|，|,|。|先生|女士|师傅))"
)
_NAME_TAGS = frozenset({"nr", "nrfg", "nrt"})
# jieba's dictionary tags some common nouns as names (银行卡, 幼儿园): a name must also start
# with one of the common surnames (the ~130 that cover nearly all of China's population).
SURNAMES = frozenset(
    "王李张刘陈杨黄赵吴周徐孙马朱胡郭何高林罗郑梁谢宋唐许韩冯邓曹彭曾肖田董袁潘于蒋蔡余杜叶程苏"
    "魏吕丁任沈姚卢姜崔钟谭陆汪范金石廖贾夏韦付方白邹孟熊秦邱江尹薛闫段雷侯龙史陶黎贺顾毛郝龚邵"
    "万钱严覃武戴莫孔向汤常温康施文牛樊葛邢安齐易乔伍庞颜倪庄聂章鲁岳翟殷詹申欧耿关兰焦俞左柳甘"
    "祝包宁尚符舒阮柯纪梅童凌毕单季裴霍涂成苗谷盛曲翁冉骆蓝路游辛靳管柴蒙鲍华喻祁蒲房滕屈饶解牟"
    "艾尤阳穆农司卓古吉缪简车项连芦麦褚娄窦戚岑景党宫费卜冷晏席卫米柏宗瞿桂全佟应臧闵苟邬边卞"
    "姬仇栾隋刁沙荣巫寇桑郎甄丛仲虞敖巩明佘池查麻苑迟邝"
)
COMPOUND_SURNAMES = ("欧阳", "司马", "上官", "诸葛", "东方", "皇甫", "慕容", "令狐", "夏侯", "长孙")

_lock = threading.Lock()
_tagger: Any = None


def _posseg() -> Any:
    """jieba's part-of-speech tagger, loaded once per process."""
    global _tagger
    with _lock:
        if _tagger is None:
            with warnings.catch_warnings():
                warnings.simplefilter("ignore", UserWarning)
                import jieba
                import jieba.posseg

            jieba.setLogLevel(logging.WARNING)
            _tagger = jieba.posseg.POSTokenizer(jieba.Tokenizer())
        return _tagger


def _jionlp() -> Any:
    with warnings.catch_warnings():
        warnings.simplefilter("ignore")
        import jionlp

    return jionlp


def _spans(found: list[dict[str, Any]], label: str) -> list[tuple[int, int, str]]:
    return [(int(item["offset"][0]), int(item["offset"][1]), label) for item in found]


def _replace(text: str, spans: list[tuple[int, int, str]]) -> str:
    """Replace the spans (overlaps merged, the first label wins), right to left."""
    merged: list[list[Any]] = []
    for start, end, label in sorted(spans):
        if merged and start < merged[-1][1]:
            merged[-1][1] = max(merged[-1][1], end)
            continue
        merged.append([start, end, label])
    for start, end, label in reversed(merged):
        text = text[:start] + label + text[end:]
    return text


def scrub_numbers(text: str) -> str:
    jio = _jionlp()
    spans = _spans(jio.extract_id_card(text, detail=True), ID_NUMBER)
    spans += _spans(jio.extract_phone_number(text, detail=True), PHONE)
    spans += _spans(jio.extract_motor_vehicle_licence_plate(text, detail=True), PLATE)
    spans += [(m.start(), m.end(), EMAIL) for m in _EMAIL.finditer(text)]
    spans += [(m.start(), m.end(), PLATE) for m in _PLATE.finditer(text)]
    text = _replace(text, spans)
    return _DIGIT_RUN.sub(NUMBER, text)


def scrub_names(text: str) -> str:
    text = _NAMED_AS.sub(lambda m: m.group(1) + PERSON, text)
    text = _SURNAME_IS.sub(lambda m: m.group(1) + "某", text)
    text = _SURNAME_FORMS.sub(lambda m: "某" if m.group(1) in SURNAMES else m.group(1), text)
    tokens = [(pair.word, pair.flag) for pair in _posseg().cut(text)]
    out: list[str] = []
    index = 0
    while index < len(tokens):
        word, flag = tokens[index]
        after = tokens[index + 1] if index + 1 < len(tokens) else None
        if _is_surname(word) and after and after[1] in _NAME_TAGS and len(after[0]) <= 2:
            out.append(PERSON)  # 王 + 秀英, 欧阳 + 娜娜: jieba cut the name in two
            index += 2
            continue
        out.append(PERSON if _is_name(word, flag) else word)
        index += 1
    return "".join(out)


def _is_surname(word: str) -> bool:
    return (len(word) == 1 and word in SURNAMES) or word in COMPOUND_SURNAMES


def _is_name(word: str, flag: str) -> bool:
    if flag not in _NAME_TAGS or not 2 <= len(word) <= 4 or "某" in word:
        return False
    return word[0] in SURNAMES or word.startswith(COMPOUND_SURNAMES)


def scrub(text: str | None) -> str:
    """The text with personal numbers and private persons' names taken out."""
    if not text:
        return ""
    return scrub_names(scrub_numbers(text))
