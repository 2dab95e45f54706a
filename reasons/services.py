"""Managing reasons (SPEC §7): delete, retire, restore, reorder, show or hide. A reason in use is retired, never
deleted: the tickets that cite it keep it, buyers are no longer offered it. Every change of a reason's order or
visibility comes through here, the admin's list and change form included (reasons.admin)."""

from typing import Literal

from django.db import transaction
from django.db.models import ProtectedError, RestrictedError
from django.utils.translation import gettext as _

from aftersales import clock
from aftersales.errors import FieldInvalid, NotAllowed, NotFound
from reasons.models import Reason

DELETED, RETIRED = "deleted", "retired"
MANAGE_PERMISSION = "reasons.change_reason"
ORDER_STEP = 10


def require_reason_manager(actor) -> None:
    """Administrators (superusers) and staff holding reasons.change_reason manage reasons."""
    if actor is None or not actor.is_authenticated or not actor.has_perm(MANAGE_PERMISSION):
        raise NotAllowed(_("Managing reasons needs an administrator or the permission to change reasons."))


def _locked(reason_id) -> Reason:
    reason = Reason.objects.select_for_update().filter(pk=reason_id).first() if isinstance(reason_id, int) else None
    if reason is None:
        raise NotFound(_("No such reason."), field="reason_id")
    return reason


def _retire(reason: Reason) -> Reason:
    if reason.retired_at is None:  # retiring twice keeps the first date
        reason.retired_at = clock.now()
    reason.is_visible = False
    reason.save(update_fields=["retired_at", "is_visible"])
    return reason


@transaction.atomic
def retire_reason(*, reason_id: int, actor) -> Reason:
    """Stop offering a reason for good (until restored); tickets that cite it are untouched."""
    require_reason_manager(actor)
    return _retire(_locked(reason_id))


@transaction.atomic
def delete_or_retire_reason(*, reason_id: int, actor) -> Literal["deleted", "retired"]:
    """Delete a reason no ticket cites; retire one that any ticket cites. Returns which it did.

    The reason's row is locked first: a ticket being created with it holds a key-share lock on the row,
    so either that ticket is committed and seen here (retire), or it waits and then fails its foreign key
    check against the deleted row; a used reason is never deleted."""
    require_reason_manager(actor)
    reason = _locked(reason_id)
    if reason.tickets.exists():
        _retire(reason)
        return RETIRED
    try:
        with transaction.atomic():  # a savepoint: a refused delete leaves the transaction usable
            reason.delete()
    except (ProtectedError, RestrictedError):  # cited by some other record: in use all the same
        _retire(reason)
        return RETIRED
    return DELETED


@transaction.atomic
def restore_reason(*, reason_id: int, actor) -> Reason:
    """Bring a retired (or hidden) reason back into what buyers are offered."""
    require_reason_manager(actor)
    reason = _locked(reason_id)
    reason.retired_at, reason.is_visible = None, True
    reason.save(update_fields=["retired_at", "is_visible"])
    return reason


@transaction.atomic
def move_reason(*, reason_id: int, actor, position: int) -> Reason:
    """Put a reason at ``position`` (1 = first) of the display order of all reasons, retired ones
    included, and renumber every reason 10, 20, 30, ... so the order has no ties and room between."""
    require_reason_manager(actor)
    by_order, target = _locked_in_order(reason_id)
    if isinstance(position, bool) or not isinstance(position, int) or not 1 <= position <= len(by_order):
        raise FieldInvalid(_("A position from 1 to %(count)s.") % {"count": len(by_order)}, field="position")
    return _put(by_order, target, position)


@transaction.atomic
def move_reason_beside(*, reason_id: int, actor, neighbour_id: int, before: bool) -> Reason:
    """Put a reason just before (or after) another one, as a list shows them: dragged there, or moved one
    place up or down past its neighbour. The same renumbering as `move_reason`, under the same lock, so the
    place is read and taken in one go."""
    require_reason_manager(actor)
    by_order, target = _locked_in_order(reason_id)
    neighbour = next((r for r in by_order if isinstance(neighbour_id, int) and r.pk == neighbour_id), None)
    if neighbour is None or neighbour is target:
        raise NotFound(_("No such reason to move it next to."), field="neighbour_id")
    others = [reason for reason in by_order if reason is not target]
    return _put(by_order, target, others.index(neighbour) + (1 if before else 2))


def _locked_in_order(reason_id) -> tuple[list[Reason], Reason]:
    # Lock the whole (small) table in primary-key order: two reorders queue instead of interleaving.
    reasons = list(Reason.objects.select_for_update().order_by("pk"))
    by_order = sorted(reasons, key=lambda r: (r.display_order, r.pk))
    target = next((r for r in by_order if isinstance(reason_id, int) and r.pk == reason_id), None)
    if target is None:
        raise NotFound(_("No such reason."), field="reason_id")
    return by_order, target


def _put(by_order: list[Reason], target: Reason, position: int) -> Reason:
    """``target`` at ``position`` (1 = first) among the others, then every reason renumbered."""
    by_order.remove(target)
    by_order.insert(position - 1, target)
    changed = []
    for i, reason in enumerate(by_order, start=1):
        if reason.display_order != i * ORDER_STEP:
            reason.display_order = i * ORDER_STEP
            changed.append(reason)
    Reason.objects.bulk_update(changed, ["display_order"])
    return target


def check_display_order(display_order) -> None:
    """Refuses what `place_reason` would refuse (the admin's forms ask before saving)."""
    if isinstance(display_order, bool) or not isinstance(display_order, int) or display_order < 0:
        raise FieldInvalid(_("A display order of 0 or more."), field="display_order")


@transaction.atomic
def place_reason(*, reason_id: int, actor, display_order: int) -> Reason:
    """Give a reason the display order number typed for it (reasons are offered by that number, then by id;
    `move_reason` puts one at a position instead and renumbers the rest)."""
    require_reason_manager(actor)
    check_display_order(display_order)
    reason = _locked(reason_id)
    if reason.display_order != display_order:
        reason.display_order = display_order
        reason.save(update_fields=["display_order"])
    return reason


def check_reason_visibility(reason: Reason, visible: bool) -> None:
    """Refuses what `set_reason_visibility` would refuse (the admin's forms ask before saving)."""
    if visible and reason.retired_at is not None:
        raise FieldInvalid(_("A retired reason comes back through “Restore”, not by showing it."),
                           field="is_visible")


@transaction.atomic
def set_reason_visibility(*, reason_id: int, actor, visible: bool) -> Reason:
    """Offer a reason to buyers, or stop offering it for a while (hidden, not retired: it keeps its place
    and comes back by being shown). A retired reason is shown again only by `restore_reason`."""
    require_reason_manager(actor)
    reason = _locked(reason_id)
    check_reason_visibility(reason, bool(visible))
    if reason.is_visible != bool(visible):
        reason.is_visible = bool(visible)
        reason.save(update_fields=["is_visible"])
    return reason
