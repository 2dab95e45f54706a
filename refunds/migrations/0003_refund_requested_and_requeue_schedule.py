"""Finance moved out of tickets: the ticket now records itself that its money is on its way
(Ticket.refund_requested_at), and re-queueing stuck refunds is a refunds task with its own schedule."""

from django.db import migrations
from django.db.models import OuterRef, Subquery

SCHEDULE = ("Re-queue refunds whose message was lost", "refunds.tasks.requeue_stuck_refunds_task", 5)
OLD_SWEEP_NAME = "Deadline sweep (close, auto-confirm, escalate, re-queue refunds)"
NEW_SWEEP_NAME = "Deadline sweep (close, auto-confirm, escalate)"


def backfill_refund_requested(apps, schema_editor):
    """A ticket with a refund that has not failed had its money requested when that refund was created."""
    Ticket = apps.get_model("tickets", "Ticket")
    Refund = apps.get_model("refunds", "Refund")
    live = Refund.objects.filter(ticket=OuterRef("pk")).exclude(status="failed").order_by("created_at")
    Ticket.objects.filter(refund_requested_at__isnull=True).filter(pk__in=live.values("ticket")).update(
        refund_requested_at=Subquery(live.values("created_at")[:1]))


def install(apps, schema_editor):
    """The periodic re-queue (editable in admin: Periodic tasks); the ticket sweep no longer does it."""
    IntervalSchedule = apps.get_model("django_celery_beat", "IntervalSchedule")
    PeriodicTask = apps.get_model("django_celery_beat", "PeriodicTask")
    name, task, minutes = SCHEDULE
    every, _ = IntervalSchedule.objects.get_or_create(every=minutes, period="minutes")
    PeriodicTask.objects.get_or_create(name=name, defaults={"task": task, "interval": every})
    PeriodicTask.objects.filter(name=OLD_SWEEP_NAME).update(name=NEW_SWEEP_NAME)


class Migration(migrations.Migration):
    dependencies = [
        ("refunds", "0002_initial"),
        ("tickets", "0003_refund_requested_at_event_kinds"),
        ("django_celery_beat", "0019_alter_periodictasks_options"),
    ]
    operations = [
        migrations.RunPython(backfill_refund_requested, migrations.RunPython.noop),
        migrations.RunPython(install, migrations.RunPython.noop),
    ]
