"""Accounts: readers, editors and admins. Passwords are hashed with scrypt (standard library),
each with its own salt. A failed login costs the same for an unknown name as for a wrong
password (one scrypt, one write) and is recorded in the audit log; each account has a session
generation that ends every session of the account when it is bumped (logout, password change,
disable), and ``session_end`` says why, so the login page can tell the person.

Roles (``ROLES``, weakest first; each can do what the ones before it can):

* ``reader`` 读者 — search, read, use the basket and download topic packs when the library
  requires a login (``require_login``); nothing else. Made one by one or in bulk from a CSV
  (:meth:`Users.import_csv`: a district's speakers).
* ``editor`` 编辑 — also upload, correct, publish, trash and restore, dictionary, synonyms.
* ``admin`` 管理员 — also accounts, purge and the audit log."""

from __future__ import annotations

import base64
import csv
import hashlib
import hmac
import io
import os
import secrets
import time

from .content import clean_text, safe_filename
from .errors import NotFoundError, UsageError
from .store.database import retried

ROLES = {"reader": "读者", "editor": "编辑", "admin": "管理员"}
RANKS = {"reader": 1, "editor": 2, "admin": 3}
# why the sessions of an account ended (users.session_end)
SESSION_ENDS = ("logout", "password", "disabled")
MAX_IMPORT = 2000
_PASSWORD_CHARS = "abcdefghjkmnpqrstuvwxyzABCDEFGHJKLMNPQRSTUVWXYZ23456789"


def has_role(role: str | None, needed: str) -> bool:
    """Whether an account with ``role`` may do what ``needed`` may (admin ⊃ editor ⊃ reader)."""
    return RANKS.get(role or "", 0) >= RANKS[needed]


def new_password(length: int = 10) -> str:
    """A random password without look-alike characters (0/O, 1/l/I), to hand out once."""
    return "".join(secrets.choice(_PASSWORD_CHARS) for _ in range(length))


_N, _R, _P = 2**14, 8, 1


def hash_password(password: str) -> str:
    salt = os.urandom(16)
    dk = hashlib.scrypt(password.encode("utf-8"), salt=salt, n=_N, r=_R, p=_P, dklen=32)
    return "scrypt$%d$%d$%d$%s$%s" % (
        _N,
        _R,
        _P,
        base64.b64encode(salt).decode(),
        base64.b64encode(dk).decode(),
    )


def _dummy_hash() -> str:
    """A hash in the stored format that no password matches: random salt and random key, so
    checking a password against it costs exactly one scrypt, like a real account."""
    return "scrypt$%d$%d$%d$%s$%s" % (
        _N,
        _R,
        _P,
        base64.b64encode(os.urandom(16)).decode(),
        base64.b64encode(os.urandom(32)).decode(),
    )


_DUMMY_HASH = _dummy_hash()
_AUDIT_NAME_CHARS = 64


def verify_password(password: str, stored: str) -> bool:
    try:
        _, n, r, p, salt, dk = stored.split("$")
        want = base64.b64decode(dk)
        got = hashlib.scrypt(
            password.encode("utf-8"),
            salt=base64.b64decode(salt),
            n=int(n),
            r=int(r),
            p=int(p),
            dklen=len(want),
        )
    except (ValueError, TypeError):
        return False
    return hmac.compare_digest(got, want)


class Users:
    """Accounts and their sessions: a repository on the store's database (``store.users``),
    sharing its unit of work (``store.db``) and writing to its audit log."""

    def __init__(self, store):
        self.store = store
        self.db = store.db
        self.audit = store.audit_trail

    def _check(self, name: str, password: str | None, role: str | None) -> None:
        if (
            not name
            or len(name) > 64
            or any(c.isspace() for c in name)
            or clean_text(name) != name
            or safe_filename(name, "") != name
        ):
            raise UsageError("用户名不能为空、不能含空格、控制字符或斜杠，且不超过 64 个字符。")
        if password is not None and len(password) < 8:
            raise UsageError("密码至少需要 8 个字符。")
        if role is not None and role not in ROLES:
            raise UsageError(
                f"未知的角色“{role}”。",
                "可用：" + "、".join(f"{k}（{v}）" for k, v in ROLES.items()),
            )

    @retried
    def add(self, name: str, password: str, role: str = "editor", *, actor: str = "cli") -> int:
        self._check(name, password, role)
        if self.get(name, missing_ok=True):
            raise UsageError(
                f"用户“{name}”已存在。", "如需重置密码，请使用管理页面或 user passwd。"
            )
        with self.db.transaction():
            uid = self.db.insert(
                "INSERT INTO users (name, password_hash, role, active, "
                "created_at) VALUES (:n, :h, :r, 1, :t)",
                {"n": name, "h": hash_password(password), "r": role, "t": time.time()},
            )
            self.audit.write(actor, "user_add", f"user:{name}", {"role": role})
        return uid

    def get(self, name: str, *, missing_ok: bool = False) -> dict | None:
        row = self.db.one("SELECT * FROM users WHERE name = :n", n=name)
        if row is None and not missing_ok:
            raise NotFoundError(f"用户“{name}”不存在。")
        return row

    def by_id(self, uid: int) -> dict | None:
        return self.db.one("SELECT * FROM users WHERE id = :i", i=uid)

    def list(self) -> list[dict]:
        """Every account, with ``has_password`` (false after a restore from a backup made
        without secrets, until someone sets one)."""
        return self.db.rows(
            "SELECT id, name, role, active, created_at, failed_logins, "
            "CASE WHEN password_hash != '' THEN 1 ELSE 0 END AS has_password FROM users ORDER BY name"
        )

    @retried
    def import_csv(self, data: str, role: str = "reader", *, actor: str = "cli") -> list[dict]:
        """Create accounts in bulk from CSV text (e.g. a district's speakers): one account a
        line, ``用户名[,密码]``; a first line naming the columns (用户名/姓名/账号/name) is
        skipped, and so are empty lines. A missing password is generated (10 characters,
        no look-alikes) and returned once. Every line is checked before anything is written:
        a bad line (a name with spaces, a short password, a name twice in the file) raises
        UsageError naming its line and nothing is created. Names that already have an account
        are left alone and reported (``status: "exists"``), so the same file can be imported
        twice. Returns one ``{line, name, password, status}`` per account line, ``password``
        only for new accounts."""
        self._check("x", None, role)
        rows = list(csv.reader(io.StringIO(data.lstrip("\ufeff"))))
        lines: list[tuple[int, str, str | None]] = []
        problems: list[str] = []
        seen: dict[str, int] = {}
        for n, row in enumerate(rows, 1):
            cells = [c.strip() for c in row]
            if not any(cells):
                continue
            name, password = cells[0], (cells[1] if len(cells) > 1 and cells[1] else None)
            if (
                not lines
                and not problems
                and name.lower() in ("用户名", "姓名", "账号", "name", "username", "user")
            ):
                continue
            try:
                self._check(name, password, None)
            except UsageError as e:
                problems.append(f"第 {n} 行（{name or '空'}）：{e.message}")
                continue
            if name in seen:
                problems.append(f"第 {n} 行（{name}）：与第 {seen[name]} 行重名。")
                continue
            seen[name] = n
            lines.append((n, name, password))
        if len(lines) > MAX_IMPORT:
            problems.append(f"一次最多导入 {MAX_IMPORT} 个账号，文件中有 {len(lines)} 个。")
        if problems:
            raise UsageError(
                "CSV 中有 %d 行无法导入，没有创建任何账号：" % len(problems)
                + "；".join(problems[:20])
                + ("……" if len(problems) > 20 else ""),
                "每行一个账号：用户名,密码（密码可省略，将自动生成）。",
            )
        if not lines:
            raise UsageError(
                "CSV 中没有账号。", "每行一个账号：用户名,密码（密码可省略，将自动生成）。"
            )
        existing = {r["name"] for r in self.db.rows("SELECT name FROM users")}
        out = []
        todo = []
        for n, name, password in lines:
            if name in existing:
                out.append({"line": n, "name": name, "password": None, "status": "exists"})
                continue
            given = password is not None
            password = password or new_password()
            todo.append((n, name, hash_password(password), None if given else password))
        with self.db.transaction():
            now = time.time()
            for n, name, pw_hash, shown in todo:
                self.db.execute(
                    "INSERT INTO users (name, password_hash, role, active, "
                    "created_at) VALUES (:n, :h, :r, 1, :t)",
                    {"n": name, "h": pw_hash, "r": role, "t": now},
                )
                self.audit.write(
                    actor, "user_add", f"user:{name}", {"role": role, "来源": "CSV 批量导入"}
                )
                out.append(
                    {
                        "line": n,
                        "name": name,
                        "password": shown,
                        "status": "created",
                        "password_given": shown is None,
                    }
                )
        return sorted(out, key=lambda r: r["line"])

    @retried
    def authenticate(
        self, name: str, password: str, *, address: str | None = None, actor: str = "web"
    ) -> dict | None:
        """The user when name and password match an active account, else None.

        Unknown names, wrong passwords and disabled accounts do the same work and give the
        same answer: one scrypt (against a dummy hash for an unknown name), then one
        transaction that counts the failure on the account (no row for an unknown name) and
        writes a ``login_failed`` audit row. Success resets the account's failure count."""
        row = self.get(name, missing_ok=True)
        ok = verify_password(password, row["password_hash"] if row else _DUMMY_HASH)
        ok = ok and bool(row and row["active"])
        with self.db.transaction():
            if ok:
                if row["failed_logins"]:
                    self.db.execute(
                        "UPDATE users SET failed_logins = 0 WHERE id = :i", {"i": row["id"]}
                    )
                return row
            self.db.execute(
                "UPDATE users SET failed_logins = failed_logins + 1, "
                "last_failed_at = :t WHERE name = :n",
                {"t": time.time(), "n": name},
            )
            reason = (
                "账号不存在" if row is None else "账号已停用" if not row["active"] else "密码错误"
            )
            self.audit.write(
                actor, "login_failed", None, login_detail(name, address, {"原因": reason})
            )
        return None

    @retried
    def end_sessions(self, uid: int, reason: str = "logout") -> None:
        """End every session of the account (a new session generation); ``reason`` (one of
        SESSION_ENDS) is what the other sessions are told on their next request."""
        with self.db.transaction():
            self.db.execute(
                "UPDATE users SET session_gen = session_gen + 1, session_end = :r WHERE id = :i",
                {"i": uid, "r": reason},
            )

    @retried
    def set_password(self, name: str, password: str, *, actor: str) -> None:
        self._check(name, password, None)
        self.get(name)
        with self.db.transaction():
            self.db.execute(
                "UPDATE users SET password_hash = :h, failed_logins = 0, "
                "session_gen = session_gen + 1, session_end = 'password' "
                "WHERE name = :n",
                {"h": hash_password(password), "n": name},
            )
            self.audit.write(actor, "user_password", f"user:{name}", {})

    @retried
    def set_active(self, name: str, active: bool, *, actor: str) -> None:
        self.get(name)
        with self.db.transaction():
            # disabling ends every session at once (enabling does not revive them)
            self.db.execute(
                "UPDATE users SET active = :a, session_gen = session_gen + :g, "
                "session_end = CASE WHEN :a = 1 THEN session_end ELSE 'disabled' END "
                "WHERE name = :n",
                {"a": int(active), "g": int(not active), "n": name},
            )
            self.audit.write(actor, "user_enable" if active else "user_disable", f"user:{name}", {})

    @retried
    def set_role(self, name: str, role: str, *, actor: str) -> None:
        self._check(name, None, role)
        self.get(name)
        with self.db.transaction():
            self.db.execute("UPDATE users SET role = :r WHERE name = :n", {"r": role, "n": name})
            self.audit.write(actor, "user_role", f"user:{name}", {"role": role})


def login_detail(name: str, address: str | None, more: dict | None = None) -> dict:
    """The detail of a login audit row: the name as typed (shortened), the source address and
    more, with Chinese keys so that the audit page reads as sentences."""
    shown = name if len(name) <= _AUDIT_NAME_CHARS else name[:_AUDIT_NAME_CHARS] + "…"
    detail = {"账号": shown}
    if address:
        detail["来源地址"] = address
    detail.update(more or {})
    return detail


__all__ = [
    "Users",
    "ROLES",
    "RANKS",
    "SESSION_ENDS",
    "has_role",
    "new_password",
    "hash_password",
    "verify_password",
    "login_detail",
]
