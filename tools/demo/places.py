"""Quanzhou's counties, townships, villages, addresses and schools for the demo population."""

from __future__ import annotations

import random
from dataclasses import dataclass
from itertools import accumulate

CITY = ("350500", "泉州市")


@dataclass(frozen=True, slots=True)
class Township:
    code: str  # 3 digits: 0xx sub-district (街道), 1xx town (镇), 2xx township (乡), as in statistical codes
    name: str
    urban: bool

    @property
    def short(self) -> str:
        """The name without its 街道/镇/乡 suffix, as schools and villages use it."""
        for suffix in ("街道", "镇", "乡"):
            if self.name.endswith(suffix):
                return self.name[: -len(suffix)]
        return self.name


@dataclass(frozen=True, slots=True)
class County:
    index: int
    code: str
    name: str
    weight: int  # resident population in 10,000s, so big counties get more households
    townships: tuple[Township, ...]

    @property
    def display(self) -> str:
        """Districts are written with the city in front (泉州市鲤城区), county-level names stand alone."""
        return CITY[1] + self.name if self.name.endswith("区") else self.name


def _townships(names: str) -> tuple[Township, ...]:
    result = []
    counters = {"街道": 1, "镇": 100, "乡": 200}
    for name in names.split():
        suffix = "街道" if name.endswith("街道") else name[-1]
        result.append(Township(f"{counters[suffix]:03d}", name, suffix == "街道"))
        counters[suffix] += 1
    return tuple(result)


_RAW = (
    ("350502", "鲤城区", 40, "开元街道 鲤中街道 海滨街道 临江街道 金龙街道 江南街道 浮桥街道 常泰街道"),
    ("350503", "丰泽区", 70, "东海街道 城东街道 北峰街道 华大街道 东湖街道 丰泽街道 泉秀街道 清源街道"),
    ("350504", "洛江区", 22, "万安街道 双阳街道 河市镇 马甲镇 罗溪镇 虹山乡"),
    ("350505", "泉港区", 38, "山腰街道 南埔镇 界山镇 后龙镇 峰尾镇 前黄镇 涂岭镇"),
    ("350521", "惠安县", 80, "螺城镇 螺阳镇 黄塘镇 紫山镇 崇武镇 山霞镇 涂寨镇 东岭镇 净峰镇 小岞镇 辋川镇"),
    ("350524", "安溪县", 100, "凤城镇 蓬莱镇 湖头镇 官桥镇 剑斗镇 城厢镇 金谷镇 龙门镇 虎邱镇 感德镇 西坪镇 祥华乡"),
    ("350525", "永春县", 45, "桃城镇 五里街镇 一都镇 下洋镇 蓬壶镇 达埔镇 石鼓镇 岵山镇 东平镇 坑仔口镇"),
    ("350526", "德化县", 28, "浔中镇 龙浔镇 三班镇 龙门滩镇 雷峰镇 南埕镇 水口镇 赤水镇 上涌镇 葛坑镇 盖德镇"),
    ("350581", "石狮市", 70, "湖滨街道 凤里街道 灵秀镇 宝盖镇 蚶江镇 祥芝镇 鸿山镇 锦尚镇 永宁镇"),
    (
        "350582",
        "晋江市",
        200,
        "青阳街道 梅岭街道 西园街道 罗山街道 灵源街道 新塘街道 安海镇 磁灶镇 陈埭镇 池店镇 金井镇 深沪镇 英林镇 龙湖镇",
    ),
    (
        "350583",
        "南安市",
        150,
        "溪美街道 柳城街道 美林街道 省新镇 东田镇 仑苍镇 英都镇 翔云镇 金淘镇 诗山镇 码头镇 九都镇 "
        "乐峰镇 罗东镇 梅山镇 洪濑镇 康美镇 丰州镇 霞美镇 官桥镇 水头镇 石井镇",
    ),
)

COUNTIES: tuple[County, ...] = tuple(
    County(index, code, name, weight, _townships(names)) for index, (code, name, weight, names) in enumerate(_RAW)
)
BY_CODE = {county.code: county for county in COUNTIES}
_CUM_WEIGHTS = tuple(accumulate(county.weight for county in COUNTIES))

_VILLAGE_STEMS = (
    "东山 西湖 南星 北峰 前洋 后埔 新华 中心 美林 福田 金山 玉湖 龙泉 凤凰 梅岭 竹林 石亭 溪口 云峰 桃源 "
    "光明 仙都 霞美 华侨 梧桐 洪塘 青阳 清濛 古山 湖美 "
).split()
_ROADS = "中山路 新华路 温陵路 泉秀路 丰泽街 刺桐路 田安路 宝洲路 东街 西街 兴贤路 成功街 江滨路 八一路 府前路".split()
VILLAGES_PER_TOWNSHIP = 12


def pick_county(rng: random.Random) -> County:
    return rng.choices(COUNTIES, cum_weights=_CUM_WEIGHTS)[0]


def village(county: County, township: Township, number: int) -> tuple[str, str]:
    """(3-digit village code, name) of the number-th village or community (1-based) of a township.

    Names come from a fixed stem table indexed by a step coprime to its length, so the villages of
    one township all have different names and the same number always gets the same name.
    """
    stem = _VILLAGE_STEMS[(county.index * 11 + int(township.code) * 3 + number * 7) % len(_VILLAGE_STEMS)]
    if township.urban:
        return f"{number:03d}", stem + "社区"
    return f"{200 + number:03d}", stem + "村"


def place_household(rng: random.Random, county: County) -> tuple[str, str, bool]:
    """(12-digit xzqh, address, urban) for a new household in the county."""
    township = rng.choice(county.townships)
    code, name = village(county, township, rng.randint(1, VILLAGES_PER_TOWNSHIP))
    house = rng.randint(1, 299)
    if township.urban:
        address = f"{county.name}{township.name}{name}{rng.choice(_ROADS)}{house}号"
    else:
        address = f"{county.name}{township.name}{name}{house}号"
    return county.code + township.code + code, address, township.urban


def township_of(county: County, xzqh: str) -> Township:
    code = xzqh[6:9]
    return next(t for t in county.townships if t.code == code)


# Higher education in and near Quanzhou, with their 10-digit national school codes.
_HIGHER_VOCATIONAL = (
    ("4135011065", "黎明职业大学"),
    ("4135012631", "泉州职业技术大学"),
    ("4135012797", "泉州经贸职业技术学院"),
    ("4135014046", "泉州海洋职业学院"),
)
_UNDERGRADUATE = (
    ("4135010385", "华侨大学"),
    ("4135010399", "泉州师范学院"),
    ("4135011070", "仰恩大学"),
    ("4135010384", "厦门大学"),
    ("4135010386", "福州大学"),
    ("4135010394", "福建师范大学"),
)
_SENIOR = ("第一中学", "第二中学", "第三中学")


def school(rng: random.Random, county: County, township: Township, stage: int) -> tuple[str, str]:
    """(xxdm, xxmc) of a plausible school for a student living in the township at the given stage."""
    if stage == 1:
        return f"{county.code}1{township.code}", f"{county.display}{township.short}中心幼儿园"
    if stage == 2:
        return f"{county.code}2{township.code}", f"{county.display}{township.short}中心小学"
    if stage == 3:
        return f"{county.code}3{township.code}", f"{county.display}{township.short}中学"
    if stage == 4:
        number = rng.randrange(len(_SENIOR))
        return f"{county.code}40{number + 1}", f"{county.display}{_SENIOR[number]}"
    if stage == 5:
        return f"{county.code}5001", f"{county.display}职业中专学校"
    if stage == 6:
        return rng.choice(_HIGHER_VOCATIONAL)
    return rng.choice(_UNDERGRADUATE)
