"""Suggest the audiences (the six 进) a document speaks to, from words that address them.

Deliberately simple: a document is suggested for an audience when the words that address that
audience occur often enough. Editors correct it; ``--audience`` overrides it.
"""

from __future__ import annotations

CUES = {
    "rural": (
        "农村",
        "村民",
        "农民",
        "乡村",
        "村里",
        "乡亲",
        "种植",
        "养殖",
        "合作社",
        "田间",
        "村委",
        "驻村",
        "镇村",
        "村干部",
        "庄稼",
    ),
    "community": ("社区", "居民", "街道", "小区", "邻里", "网格", "物业", "楼栋", "志愿者"),
    "enterprise": (
        "企业",
        "职工",
        "员工",
        "工人",
        "车间",
        "营商环境",
        "民营",
        "产业工人",
        "工会",
        "厂区",
        "园区",
    ),
    "agency": ("机关", "党员干部", "公务员", "领导干部", "干部", "单位", "履职", "作风"),
    "school": ("学校", "学生", "师生", "青少年", "课堂", "校园", "老师", "教师", "同学们", "少年"),
    "online": ("网络", "网民", "网上", "新媒体", "短视频", "直播", "互联网", "线上", "公众号"),
}


def suggest_audiences(text: str, *, minimum: int = 3, limit: int = 3) -> list[str]:
    """Audiences whose cue words occur at least ``minimum`` times, most addressed first."""
    scores = {aud: sum(text.count(w) for w in words) for aud, words in CUES.items()}
    ranked = sorted((s, a) for a, s in scores.items() if s >= minimum)
    return [a for s, a in reversed(ranked)][:limit]


__all__ = ["suggest_audiences", "CUES"]
