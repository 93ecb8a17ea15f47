"""Editor and admin accounts. Passwords are hashed with scrypt (standard library), each with its
own salt. A failed login costs the same for an unknown name as for a wrong password (one scrypt,
one write) and is recorded in the audit log; each account has a session generation that ends
every session of the account when it is bumped (logout, password change, disable)."""

from __future__ import annotations

import base64
import hashlib
import hmac
import os
import time

from sqlalchemy import text

from .errors import NotFoundError, UsageError

ROLES = {"editor": "编辑", "admin": "管理员"}
_N, _R, _P = 2 ** 14, 8, 1


def hash_password(password: str) -> str:
    salt = os.urandom(16)
    dk = hashlib.scrypt(password.encode("utf-8"), salt=salt, n=_N, r=_R, p=_P, dklen=32)
    return "scrypt$%d$%d$%d$%s$%s" % (_N, _R, _P, base64.b64encode(salt).decode(),
                                      base64.b64encode(dk).decode())


def _dummy_hash() -> str:
    """A hash in the stored format that no password matches: random salt and random key, so
    checking a password against it costs exactly one scrypt, like a real account."""
    return "scrypt$%d$%d$%d$%s$%s" % (_N, _R, _P, base64.b64encode(os.urandom(16)).decode(),
                                      base64.b64encode(os.urandom(32)).decode())


_DUMMY_HASH = _dummy_hash()
_AUDIT_NAME_CHARS = 64


def verify_password(password: str, stored: str) -> bool:
    try:
        _, n, r, p, salt, dk = stored.split("$")
        want = base64.b64decode(dk)
        got = hashlib.scrypt(password.encode("utf-8"), salt=base64.b64decode(salt), n=int(n),
                             r=int(r), p=int(p), dklen=len(want))
    except (ValueError, TypeError):
        return False
    return hmac.compare_digest(got, want)


class Users:
    """Account operations on a store's database."""

    def __init__(self, store):
        self.store = store

    def _check(self, name: str, password: str | None, role: str | None) -> None:
        if not name or len(name) > 64 or any(c.isspace() for c in name):
            raise UsageError("用户名不能为空、不能含空格，且不超过 64 个字符。")
        if password is not None and len(password) < 8:
            raise UsageError("密码至少需要 8 个字符。")
        if role is not None and role not in ROLES:
            raise UsageError(f"未知的角色“{role}”。", "可用：editor（编辑）、admin（管理员）")

    def add(self, name: str, password: str, role: str = "editor", *, actor: str = "cli") -> int:
        self._check(name, password, role)
        if self.get(name, missing_ok=True):
            raise UsageError(f"用户“{name}”已存在。", "如需重置密码，请使用管理页面或 user passwd。")
        with self.store.engine.begin() as conn:
            uid = conn.execute(text("INSERT INTO users (name, password_hash, role, active, "
                                    "created_at) VALUES (:n, :h, :r, 1, :t)"),
                               {"n": name, "h": hash_password(password), "r": role,
                                "t": time.time()}).lastrowid
            self.store._audit(conn, actor, "user_add", f"user:{name}", {"role": role})
        return uid

    def get(self, name: str, *, missing_ok: bool = False) -> dict | None:
        row = self.store._one("SELECT * FROM users WHERE name = :n", n=name)
        if row is None and not missing_ok:
            raise NotFoundError(f"用户“{name}”不存在。")
        return row

    def by_id(self, uid: int) -> dict | None:
        return self.store._one("SELECT * FROM users WHERE id = :i", i=uid)

    def list(self) -> list[dict]:
        return self.store._rows("SELECT id, name, role, active, created_at, failed_logins "
                                "FROM users ORDER BY name")

    def authenticate(self, name: str, password: str, *, address: str | None = None,
                     actor: str = "web") -> dict | None:
        """The user when name and password match an active account, else None.

        Unknown names, wrong passwords and disabled accounts do the same work and give the
        same answer: one scrypt (against a dummy hash for an unknown name), then one
        transaction that counts the failure on the account (no row for an unknown name) and
        writes a ``login_failed`` audit row. Success resets the account's failure count."""
        row = self.get(name, missing_ok=True)
        ok = verify_password(password, row["password_hash"] if row else _DUMMY_HASH)
        ok = ok and bool(row and row["active"])
        with self.store.engine.begin() as conn:
            if ok:
                if row["failed_logins"]:
                    conn.execute(text("UPDATE users SET failed_logins = 0 WHERE id = :i"),
                                 {"i": row["id"]})
                return row
            conn.execute(text("UPDATE users SET failed_logins = failed_logins + 1, "
                              "last_failed_at = :t WHERE name = :n"),
                         {"t": time.time(), "n": name})
            reason = ("账号不存在" if row is None else "账号已停用" if not row["active"]
                      else "密码错误")
            self.store._audit(conn, actor, "login_failed", None,
                              login_detail(name, address, {"原因": reason}))
        return None

    def end_sessions(self, uid: int) -> None:
        """End every session of the account (a new session generation)."""
        with self.store.engine.begin() as conn:
            conn.execute(text("UPDATE users SET session_gen = session_gen + 1 WHERE id = :i"),
                         {"i": uid})

    def set_password(self, name: str, password: str, *, actor: str) -> None:
        self._check(name, password, None)
        self.get(name)
        with self.store.engine.begin() as conn:
            conn.execute(text("UPDATE users SET password_hash = :h, failed_logins = 0, "
                              "session_gen = session_gen + 1 WHERE name = :n"),
                         {"h": hash_password(password), "n": name})
            self.store._audit(conn, actor, "user_password", f"user:{name}", {})

    def set_active(self, name: str, active: bool, *, actor: str) -> None:
        self.get(name)
        with self.store.engine.begin() as conn:
            # disabling ends every session at once (enabling does not revive them)
            conn.execute(text("UPDATE users SET active = :a, session_gen = session_gen + :g "
                              "WHERE name = :n"), {"a": int(active), "g": int(not active),
                                                   "n": name})
            self.store._audit(conn, actor, "user_enable" if active else "user_disable",
                              f"user:{name}", {})

    def set_role(self, name: str, role: str, *, actor: str) -> None:
        self._check(name, None, role)
        self.get(name)
        with self.store.engine.begin() as conn:
            conn.execute(text("UPDATE users SET role = :r WHERE name = :n"), {"r": role, "n": name})
            self.store._audit(conn, actor, "user_role", f"user:{name}", {"role": role})


def login_detail(name: str, address: str | None, more: dict | None = None) -> dict:
    """The detail of a login audit row: the name as typed (shortened), the source address and
    more, with Chinese keys so that the audit page reads as sentences."""
    shown = name if len(name) <= _AUDIT_NAME_CHARS else name[:_AUDIT_NAME_CHARS] + "…"
    detail = {"账号": shown}
    if address:
        detail["来源地址"] = address
    detail.update(more or {})
    return detail


__all__ = ["Users", "ROLES", "hash_password", "verify_password", "login_detail"]
