"""The library's own word lists in the shared-database mode: the editors' dictionary, synonyms
and speaker aliases (and a custom topic taxonomy) live in files of the home directory
(``dictionary.txt``, ``synonyms.txt``, ``speakers.txt``, ``topics.json``). With several nodes
each has its own home, so the database holds the library's copy of each file:

* a node pulls them when its service opens, before anything reads them;
* an edit on any node pushes the edited file and bumps a stamp;
* every node looks at the stamp at most every ``CHECK_S`` seconds (on a search) and, when it
  changed, pulls the files and reloads its vocabulary, speaker table and taxonomy.

In the embedded mode none of this runs: the home is the only copy.
"""

from __future__ import annotations

import os
import time
import uuid

FILES = ("dictionary.txt", "synonyms.txt", "speakers.txt", "topics.json")
STAMP = "shared_files_stamp"
CHECK_S = 10.0


def _shared(svc) -> bool:
    return bool(svc.home.database_url)


def pull(svc) -> bool:
    """Write the database's copy of each file into this node's home; True if any changed."""
    if not _shared(svc):
        return False
    changed = False
    for name in FILES:
        content = svc.store.get_setting("file:" + name)
        if content is None:
            continue
        path = svc.home.path / name
        try:
            current = path.read_text(encoding="utf-8")
        except OSError:
            current = None
        if current != content:
            tmp = path.with_name(f".{name}.{os.getpid()}.tmp")
            tmp.write_text(content, encoding="utf-8")
            os.replace(tmp, path)
            changed = True
    svc._shared_stamp = (svc.store.get_setting(STAMP), time.monotonic())
    return changed


def push(svc, name: str) -> None:
    """After an edit on this node: the file's new content for every node."""
    if not _shared(svc):
        return
    path = svc.home.path / name
    content = path.read_text(encoding="utf-8") if path.exists() else ""
    stamp = uuid.uuid4().hex
    svc.store.set_setting("file:" + name, content)
    svc.store.set_setting(STAMP, stamp)
    svc._shared_stamp = (stamp, time.monotonic())


def maybe_refresh(svc) -> None:
    """Reload the word lists when another node changed them (looked at every CHECK_S s)."""
    if not _shared(svc):
        return
    seen = getattr(svc, "_shared_stamp", None)
    if seen is not None and time.monotonic() - seen[1] < CHECK_S:
        return
    stamp = svc.store.get_setting(STAMP)
    if seen is not None and stamp == seen[0]:
        svc._shared_stamp = (stamp, time.monotonic())
        return
    if pull(svc):
        svc.reload_word_lists()


__all__ = ["pull", "push", "maybe_refresh", "FILES"]
