"""Accounts and sign-in (readers, editors, admins) as delivery sees them: the user store of
``library.users`` over the service's store, and the role names and checks it needs."""

from __future__ import annotations

from library.users import ROLES, Users, has_role, login_detail


class Accounts(Users):
    """Create, list, change and disable accounts; authenticate; end sessions. Every change
    is audited with its actor (see ``library.users.Users``)."""


__all__ = ["Accounts", "ROLES", "has_role", "login_detail"]
