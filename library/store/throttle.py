"""Failed logins kept in the store (table ``login_failures``, revision 0008), so that every
server process and node counts the same failures. The throttle's rules live with the web's
login (``web/security.py``, ``LoginThrottle``); this is its table."""

from __future__ import annotations

from .database import Database


class LoginFailures:
    def __init__(self, db: Database):
        self.db = db

    def get(self, scope: str, key: str) -> tuple[int, float, bool] | None:
        """(count, time of the last failure, whether its refusal is logged) or None."""
        r = self.db.one(
            "SELECT count, last, logged FROM login_failures WHERE scope = :s AND key = :k",
            s=scope,
            k=key,
        )
        return None if r is None else (int(r["count"]), float(r["last"]), bool(r["logged"]))

    def failed(self, scope: str, key: str, now: float, stale_after: float) -> None:
        """One more failure, atomically across processes: a record whose last failure is more
        than ``stale_after`` seconds old starts again at 1."""
        with self.db.transaction():
            self.db.execute(
                "INSERT INTO login_failures (scope, key, count, last, logged) "
                "VALUES (:s, :k, 1, :now, 0) ON CONFLICT (scope, key) DO UPDATE SET "
                "count = CASE WHEN :now - login_failures.last > :stale THEN 1 "
                "ELSE login_failures.count + 1 END, last = :now, logged = 0",
                {"s": scope, "k": key, "now": now, "stale": stale_after},
            )

    def mark_logged(self, scope: str, key: str) -> bool:
        """Mark the refusal logged; True only for the process that marked it first."""
        with self.db.transaction():
            res = self.db.execute(
                "UPDATE login_failures SET logged = 1 WHERE scope = :s AND key = :k AND logged = 0",
                {"s": scope, "k": key},
            )
            return bool(res.rowcount)

    def forget(self, scope: str, key: str) -> None:
        with self.db.transaction():
            self.db.execute(
                "DELETE FROM login_failures WHERE scope = :s AND key = :k", {"s": scope, "k": key}
            )

    def forget_before(self, when: float) -> None:
        with self.db.transaction():
            self.db.execute("DELETE FROM login_failures WHERE last < :w", {"w": when})


__all__ = ["LoginFailures"]
