"""The library's own word lists: the editors' dictionary, synonyms and speaker aliases (and a
custom topic taxonomy) live in files of the home directory (``dictionary.txt``,
``synonyms.txt``, ``speakers.txt``, ``topics.json``). Every server process keeps them loaded,
and an edit is made by one process, so the others must notice:

* every process looks at the files' size and modification time at most every ``LOCAL_CHECK_S``
  seconds (on a search) and reloads its vocabulary, speaker table and taxonomy when they
  changed (the sibling worker processes of one node, the command line);
* with several nodes each has its own home, so the database holds the library's copy of each
  file: a node pulls them when its service opens, an edit on any node pushes the edited file and
  bumps a stamp, and every node looks at the stamp at most every ``CHECK_S`` seconds and, when
  it changed, pulls the files and reloads.
"""

from __future__ import annotations

import os
import time
import uuid

FILES = ("dictionary.txt", "synonyms.txt", "speakers.txt", "topics.json")
STAMP = "shared_files_stamp"
CHECK_S = 10.0
LOCAL_CHECK_S = 2.0


def _signature(svc) -> tuple:
    out = []
    for name in FILES:
        try:
            st = os.stat(svc.home.path / name)
            out.append((name, st.st_size, st.st_mtime_ns))
        except OSError:
            out.append((name, None, None))
    return tuple(out)


def remember(svc) -> None:
    """The word lists as this process loaded them (called when it loads or reloads them)."""
    svc._files_seen = (_signature(svc), time.monotonic())


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
    """After an edit in this process: the file's new content for every node (this process
    has its words already: nothing to reload)."""
    remember(svc)
    if not _shared(svc):
        return
    path = svc.home.path / name
    content = path.read_text(encoding="utf-8") if path.exists() else ""
    stamp = uuid.uuid4().hex
    svc.store.set_setting("file:" + name, content)
    svc.store.set_setting(STAMP, stamp)
    svc._shared_stamp = (stamp, time.monotonic())


def maybe_refresh(svc) -> None:
    """Reload the word lists when another process or node changed them."""
    now = time.monotonic()
    pulled = False
    if _shared(svc):
        seen = getattr(svc, "_shared_stamp", None)
        if seen is None or now - seen[1] >= CHECK_S:
            stamp = svc.store.get_setting(STAMP)
            if seen is None or stamp != seen[0]:
                # the files may already be here (a sibling process pulled them): the local
                # check below compares them with what this process loaded
                pulled = pull(svc) or seen is not None
            svc._shared_stamp = (stamp, now)
    files = getattr(svc, "_files_seen", None)
    if files is not None and not pulled and now - files[1] < LOCAL_CHECK_S:
        return
    sig = _signature(svc)
    if files is not None and sig != files[0] and not svc.reload_word_lists():
        svc._files_seen = (files[0], now)  # the index is not rebuilt for them yet: look again
        return
    svc._files_seen = (sig, now)


__all__ = ["pull", "push", "maybe_refresh", "remember", "FILES"]
