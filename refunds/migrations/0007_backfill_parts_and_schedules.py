"""Refunds recorded before their parts existed get them (lines, shipping, coupon, points), split as new
refunds are (refunds.breakdown); order lines count what succeeded refunds paid for their goods; refunds
still pending count as handed to the queue when they were created (the reconciliation re-queues them if
lost, not the dispatcher). The schedules: the dispatcher every 30 s, and the reconciliation (which
replaces the re-queue of lost refunds) every 2 minutes."""

from django.db import migrations
from django.db.models import F

from refunds.breakdown import split_refund

DISPATCH = ("Dispatch refunds the broker did not take", "refunds.tasks.dispatch_refunds_task", 30, "seconds")
RECONCILE = ("Reconcile refunds stuck pending or in progress", "refunds.tasks.reconcile_refunds_task", 2, "minutes")
OLD_REQUEUE = "Re-queue refunds whose message was lost"


def backfill(apps, schema_editor):
    Refund = apps.get_model("refunds", "Refund")
    RefundLine = apps.get_model("refunds", "RefundLine")
    TicketLine = apps.get_model("tickets", "TicketLine")
    OrderLine = apps.get_model("orders", "OrderLine")
    refunds = Refund.objects.filter(lines__isnull=True).select_related("ticket").order_by("pk")
    for refund in refunds.iterator(chunk_size=500):
        ticket = refund.ticket
        claimed = list(TicketLine.objects.filter(ticket=ticket).order_by("pk").values_list("order_line_id", "refund_amount"))
        split = split_refund(amount=refund.amount, shipping=ticket.shipping_refund,
                             line_amounts=[amount for _, amount in claimed])
        Refund.objects.filter(pk=refund.pk).update(
            shipping=split.shipping, coupon=ticket.coupon_refund, virtual_currency=ticket.virtual_currency_refund)
        RefundLine.objects.bulk_create(RefundLine(refund_id=refund.pk, order_line_id=order_line_id, amount=amount)
                                       for (order_line_id, _), amount in zip(claimed, split.lines, strict=True))
        if refund.status == "succeeded":
            for (order_line_id, _), amount in sorted(zip(claimed, split.lines, strict=True)):
                OrderLine.objects.filter(pk=order_line_id).update(refunded_amount=F("refunded_amount") + amount)
    Refund.objects.filter(status="pending", dispatched_at__isnull=True).update(dispatched_at=F("created_at"))


def install(apps, schema_editor):
    """The two schedules (editable in admin: Periodic tasks); the old re-queue row becomes the reconciliation."""
    IntervalSchedule = apps.get_model("django_celery_beat", "IntervalSchedule")
    PeriodicTask = apps.get_model("django_celery_beat", "PeriodicTask")
    for name, task, every, period in (DISPATCH, RECONCILE):
        interval, _ = IntervalSchedule.objects.get_or_create(every=every, period=period)
        if name == RECONCILE[0] and not PeriodicTask.objects.filter(name=name).exists():
            PeriodicTask.objects.filter(name=OLD_REQUEUE).update(name=name, task=task, interval=interval)
        PeriodicTask.objects.get_or_create(name=name, defaults={"task": task, "interval": interval})


class Migration(migrations.Migration):
    dependencies = [
        ("refunds", "0006_refund_parts_lines_attempts"),
        ("orders", "0004_orderline_refunded_amount"),
        ("django_celery_beat", "0019_alter_periodictasks_options"),
    ]
    operations = [
        migrations.RunPython(backfill, migrations.RunPython.noop),
        migrations.RunPython(install, migrations.RunPython.noop),
    ]
