"""Role permissions, granted by data migrations: a user newly added to a role's group can work at once.

Each part grants what its own models need (the layering holds for permissions too): tickets grants the
view of tickets, refunds the view of refunds, and so on. Only migrations import this module."""

from django.contrib.auth.management import create_permissions


def grant_in_migration(apps, grants: dict[str, list[str]], *, app_label: str) -> None:
    """Give each role (group) the permissions on ``app_label``'s models named by codename. Permissions
    are created first: on a fresh database Django would only create them after the last migration."""
    app_config = apps.get_app_config(app_label)
    if getattr(app_config, "models_module", None) is None:
        app_config.models_module = True  # a migration state's app has none; create_permissions asks for one
    create_permissions(app_config, verbosity=0, apps=apps)
    Group = apps.get_model("auth", "Group")
    Permission = apps.get_model("auth", "Permission")
    for role, codenames in grants.items():
        group, _ = Group.objects.get_or_create(name=role)
        perms = list(Permission.objects.filter(content_type__app_label=app_label, codename__in=codenames))
        missing = set(codenames) - {p.codename for p in perms}
        if missing:
            raise LookupError(f"No such permission in {app_label}: {', '.join(sorted(missing))}")
        group.permissions.add(*perms)
