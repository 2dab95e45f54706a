"""Roles are Django groups: ops, finance, warehouse, service. Superusers hold every role."""

from aftersales.errors import NotAllowed

OPS, FINANCE, WAREHOUSE, SERVICE = "ops", "finance", "warehouse", "service"
STAFF_ROLES = (OPS, FINANCE, WAREHOUSE)
ALL_ROLES = (OPS, FINANCE, WAREHOUSE, SERVICE)


def in_group(user, *groups: str) -> bool:
    if user is None or not user.is_authenticated:
        return False
    if user.is_superuser:
        return True
    cached = getattr(user, "_role_names", None)
    if cached is None:
        cached = set(user.groups.values_list("name", flat=True))
        user._role_names = cached
    return bool(cached.intersection(groups))


def is_staff_member(user) -> bool:
    return in_group(user, *STAFF_ROLES)


def require_role(user, *groups: str) -> None:
    if not in_group(user, *groups):
        raise NotAllowed(f"This needs the role {' or '.join(groups)}.")

