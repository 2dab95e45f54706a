"""Roles are Django groups: ops, finance, warehouse, service. Superusers hold every role."""

from django.utils.translation import gettext as _

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


def needs_role(*groups: str) -> str:
    """The refusal for someone who holds none of ``groups``: "This needs the role ops or finance."."""
    roles = ""
    for group in groups:
        # Translators: two role names (e.g. "ops", "finance"), either of which would do.
        roles = _("%(first)s or %(second)s") % {"first": roles, "second": group} if roles else group
    return _("This needs the role %(roles)s.") % {"roles": roles}


def require_role(user, *groups: str) -> None:
    if not in_group(user, *groups):
        raise NotAllowed(needs_role(*groups))

