"""The ten topic categories (宣讲选题), kept in an editable JSON data file.

The packaged default is ``library/data/topics.json``. A library home may hold its own
``topics.json`` (an administrator's edited copy); it wins when present.
"""

from __future__ import annotations

import json
from dataclasses import dataclass, field
from importlib import resources
from pathlib import Path

from .errors import UsageError


@dataclass(frozen=True)
class Topic:
    slug: str
    name: str
    description: str = ""
    keywords: tuple[str, ...] = field(default_factory=tuple)
    fixed: bool = False


class Taxonomy:
    def __init__(self, topics: list[Topic], version: int = 1):
        self.topics = topics
        self.version = version
        self._by_key: dict[str, Topic] = {}
        for t in topics:
            self._by_key[t.slug.casefold()] = t
            self._by_key[t.name.casefold()] = t

    @classmethod
    def from_json(cls, text: str) -> Taxonomy:
        raw = json.loads(text)
        topics = [
            Topic(
                slug=t["slug"],
                name=t["name"],
                description=t.get("description", ""),
                keywords=tuple(t.get("keywords", [])),
                fixed=bool(t.get("fixed", False)),
            )
            for t in raw["topics"]
        ]
        return cls(topics, version=int(raw.get("version", 1)))

    @classmethod
    def load(cls, home: Path | None = None) -> Taxonomy:
        if home is not None:
            own = Path(home) / "topics.json"
            if own.is_file():
                return cls.from_json(own.read_text(encoding="utf-8"))
        return cls.default()

    @classmethod
    def default(cls) -> Taxonomy:
        text = resources.files("library").joinpath("data/topics.json").read_text(encoding="utf-8")
        return cls.from_json(text)

    def __iter__(self):
        return iter(self.topics)

    def __len__(self) -> int:
        return len(self.topics)

    def get(self, key: str) -> Topic | None:
        return self._by_key.get(key.strip().casefold())

    def resolve(self, key: str) -> Topic:
        """A topic by Chinese name or slug; a clear error listing the valid names otherwise."""
        t = self.get(key)
        if t is None:
            names = "、".join(t.name for t in self.topics)
            raise UsageError(f"没有名为“{key}”的专题。", f"可用的专题：{names}")
        return t

    def name_of(self, slug: str) -> str:
        t = self._by_key.get(slug.casefold())
        return t.name if t else slug

    @property
    def slugs(self) -> list[str]:
        return [t.slug for t in self.topics]


__all__ = ["Topic", "Taxonomy"]
