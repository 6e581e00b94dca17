"""Chinese personal names and mobile numbers for the demo population."""

from __future__ import annotations

import random

# Southern Fujian surnames, the most frequent ones repeated so a plain choice() follows their weight.
_SURNAMES = (
    "陈陈陈陈陈林林林林黄黄黄王王王李李张张吴吴刘蔡蔡郑郑洪洪苏苏许许庄庄杨施施颜柯柯曾周谢"
    "何郭叶潘傅卢戴邱赖詹肖胡朱徐孙马高罗梁宋唐韩冯邓彭田董袁蒋余杜程魏吕丁沈姚姜钟谭汪范"
    "金石廖夏方白邹孟熊秦江尹薛段雷侯龙史陶黎顾毛邵万严武孔汤骆尤"
)
COMPOUND_SURNAMES = ("欧阳", "司马", "诸葛", "上官", "东方", "皇甫", "慕容", "司徒", "夏侯", "令狐", "公孙", "尉迟")
_MALE_CHARS = "伟强磊军洋勇杰涛明超斌辉鹏华俊峰建国志文彬宇浩凯晨阳鑫瑞泽锦鸿荣福祥德坤海毅宏"
_FEMALE_CHARS = "芳娜敏静丽艳娟霞秀玲婷雪琳颖慧梅莹佳倩妍欣怡萍燕红兰凤琴月晶璐菲雅蓉淑惠"
_SHARED_CHARS = "子天一嘉思雨晓春清新佳安永金宝家如文明小"

# Uyghur names are written given name · father's name; a few such families live in every big city.
_ETHNIC_MALE = ("买买提", "艾尔肯", "阿卜杜拉", "吐尔逊", "艾力", "努尔兰", "热合曼", "依明")
_ETHNIC_FEMALE = ("阿依古丽", "古丽娜尔", "热依拉", "迪丽努尔", "帕提古丽", "米热古丽", "阿米娜", "再努尔")
_ETHNIC_FATHERS = ("买买提", "吐尔逊", "艾力", "玉素甫", "阿不都拉", "依明", "热合曼", "卡德尔")

_MOBILE_PREFIXES = (
    tuple(f"13{d}" for d in range(10)) + tuple(f"15{d}" for d in "012356789") + tuple(f"18{d}" for d in range(10))
)

ETHNIC = "·"  # a family surname of ETHNIC means: give everyone an ethnic name, no shared surname


def family_surname(rng: random.Random) -> str:
    roll = rng.random()
    if roll < 0.004:
        return ETHNIC
    if roll < 0.02:
        return rng.choice(COMPOUND_SURNAMES)
    return rng.choice(_SURNAMES)


def other_surname(rng: random.Random) -> str:
    """Surname of someone who married in: compound ones occur, ethnic ones stay within the family."""
    return rng.choice(COMPOUND_SURNAMES) if rng.random() < 0.015 else rng.choice(_SURNAMES)


def full_name(rng: random.Random, surname: str, male: bool) -> str:
    if surname == ETHNIC:
        given = rng.choice(_ETHNIC_MALE if male else _ETHNIC_FEMALE)
        return f"{given}{ETHNIC}{rng.choice(_ETHNIC_FATHERS)}"
    chars = _MALE_CHARS if male else _FEMALE_CHARS
    first = rng.choice(chars)
    if rng.random() < 0.15:  # one-character given names
        return surname + first
    second = rng.choice(_SHARED_CHARS) if rng.random() < 0.3 else rng.choice(chars)
    return surname + first + second


def phone(rng: random.Random, age: int) -> str:
    """An 11-digit mobile number, or empty: most children and many old people have none on file."""
    missing = 0.9 if age < 16 else 0.3 if age >= 75 else 0.08
    if rng.random() < missing:
        return ""
    return rng.choice(_MOBILE_PREFIXES) + f"{rng.randrange(100_000_000):08d}"
