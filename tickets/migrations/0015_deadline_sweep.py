"""The deadline sweep (issue #13): its partial index (what is due and not escalated at this stage), the
logistics clocks' kinds, and when staff first answered a claim (backfilled for open logistics tickets from
their first staff timeline row, so an old ticket is not taken for unanswered)."""

import pgtrigger.compiler
import pgtrigger.migrations
from django.conf import settings
from django.db import migrations, models
from django.db.models import OuterRef, Subquery


def backfill_first_replies(apps, schema_editor):
    Ticket = apps.get_model("tickets", "Ticket")
    TimelineEvent = apps.get_model("tickets", "TimelineEvent")
    first_staff_row = (TimelineEvent.objects.filter(ticket=OuterRef("pk"),
                                                    actor_role__in=["ops", "finance", "warehouse", "admin", "staff"])
                       .order_by("at").values("at")[:1])
    (Ticket.objects.filter(first_replied_at__isnull=True, reason__group="logistics")
     .exclude(status__in=["rejected", "completed", "cancelled", "closed"])
     .update(first_replied_at=Subquery(first_staff_row)))


class Migration(migrations.Migration):

    dependencies = [
        ('orders', '0003_verbose_names'),
        ('reasons', '0004_verbose_names'),
        ('tickets', '0014_intercept_outcome'),
        migrations.swappable_dependency(settings.AUTH_USER_MODEL),
    ]

    operations = [
        pgtrigger.migrations.RemoveTrigger(
            model_name='ticket',
            name='insert_insert',
        ),
        pgtrigger.migrations.RemoveTrigger(
            model_name='ticket',
            name='update_update',
        ),
        pgtrigger.migrations.RemoveTrigger(
            model_name='ticket',
            name='delete_delete',
        ),
        migrations.AddField(
            model_name='ticket',
            name='first_replied_at',
            field=models.DateTimeField(blank=True, help_text='the first staff note or decision on the claim', null=True, verbose_name='first replied at'),
        ),
        migrations.AddField(
            model_name='tickethistory',
            name='first_replied_at',
            field=models.DateTimeField(blank=True, help_text='the first staff note or decision on the claim', null=True, verbose_name='first replied at'),
        ),
        migrations.AlterField(
            model_name='ticket',
            name='next_deadline_kind',
            field=models.CharField(blank=True, choices=[('review', 'ops review'), ('return', 'buyer sends the goods back'), ('refund', 'refund'), ('replacement', 'replacement shipped'), ('confirm', 'buyer confirms receipt'), ('first_reply', 'first reply to a logistics problem'), ('resolution', 'logistics problem resolved')], max_length=16, verbose_name='due for'),
        ),
        migrations.AlterField(
            model_name='tickethistory',
            name='next_deadline_kind',
            field=models.CharField(blank=True, choices=[('review', 'ops review'), ('return', 'buyer sends the goods back'), ('refund', 'refund'), ('replacement', 'replacement shipped'), ('confirm', 'buyer confirms receipt'), ('first_reply', 'first reply to a logistics problem'), ('resolution', 'logistics problem resolved')], max_length=16, verbose_name='due for'),
        ),
        migrations.AddIndex(
            model_name='ticket',
            index=models.Index(condition=models.Q(('escalated_at__isnull', True), ('next_deadline_at__isnull', False)), fields=['next_deadline_at'], name='ticket_deadline_sweep'),
        ),
        pgtrigger.migrations.AddTrigger(
            model_name='ticket',
            trigger=pgtrigger.compiler.Trigger(name='insert_insert', sql=pgtrigger.compiler.UpsertTriggerSql(func='INSERT INTO "tickets_tickethistory" ("approved_at", "assignee_id", "buyer_id", "confirm_deadline", "coupon_refund", "created_at", "description", "escalated_at", "fee_reason", "finance_rejection_reason", "finished_at", "first_replied_at", "goods_amount", "goods_received_at", "id", "inspection_passed", "intercept_requested", "is_compensation", "next_deadline_at", "next_deadline_kind", "order_id", "pgh_context_id", "pgh_created_at", "pgh_label", "pgh_obj_id", "reason_id", "refund_amount", "refund_requested_at", "rejection_reason", "replacement_shipped_at", "reship_requested_at", "return_address", "return_contact", "return_deadline", "return_phone", "review_started_at", "reviewed_at", "reviewer_id", "service_fee", "shipping_refund", "shop_id", "status", "ticket_no", "type", "updated_at", "virtual_currency_refund") VALUES (NEW."approved_at", NEW."assignee_id", NEW."buyer_id", NEW."confirm_deadline", NEW."coupon_refund", NEW."created_at", NEW."description", NEW."escalated_at", NEW."fee_reason", NEW."finance_rejection_reason", NEW."finished_at", NEW."first_replied_at", NEW."goods_amount", NEW."goods_received_at", NEW."id", NEW."inspection_passed", NEW."intercept_requested", NEW."is_compensation", NEW."next_deadline_at", NEW."next_deadline_kind", NEW."order_id", _pgh_attach_context(), NOW(), \'insert\', NEW."id", NEW."reason_id", NEW."refund_amount", NEW."refund_requested_at", NEW."rejection_reason", NEW."replacement_shipped_at", NEW."reship_requested_at", NEW."return_address", NEW."return_contact", NEW."return_deadline", NEW."return_phone", NEW."review_started_at", NEW."reviewed_at", NEW."reviewer_id", NEW."service_fee", NEW."shipping_refund", NEW."shop_id", NEW."status", NEW."ticket_no", NEW."type", NEW."updated_at", NEW."virtual_currency_refund"); RETURN NULL;', hash='3e45e3fe89a14b0c5f7f6289c6f41f0c11d3a76d', operation='INSERT', pgid='pgtrigger_insert_insert_2d01a', table='tickets_ticket', when='AFTER')),
        ),
        pgtrigger.migrations.AddTrigger(
            model_name='ticket',
            trigger=pgtrigger.compiler.Trigger(name='update_update', sql=pgtrigger.compiler.UpsertTriggerSql(condition='WHEN (OLD.* IS DISTINCT FROM NEW.*)', func='INSERT INTO "tickets_tickethistory" ("approved_at", "assignee_id", "buyer_id", "confirm_deadline", "coupon_refund", "created_at", "description", "escalated_at", "fee_reason", "finance_rejection_reason", "finished_at", "first_replied_at", "goods_amount", "goods_received_at", "id", "inspection_passed", "intercept_requested", "is_compensation", "next_deadline_at", "next_deadline_kind", "order_id", "pgh_context_id", "pgh_created_at", "pgh_label", "pgh_obj_id", "reason_id", "refund_amount", "refund_requested_at", "rejection_reason", "replacement_shipped_at", "reship_requested_at", "return_address", "return_contact", "return_deadline", "return_phone", "review_started_at", "reviewed_at", "reviewer_id", "service_fee", "shipping_refund", "shop_id", "status", "ticket_no", "type", "updated_at", "virtual_currency_refund") VALUES (NEW."approved_at", NEW."assignee_id", NEW."buyer_id", NEW."confirm_deadline", NEW."coupon_refund", NEW."created_at", NEW."description", NEW."escalated_at", NEW."fee_reason", NEW."finance_rejection_reason", NEW."finished_at", NEW."first_replied_at", NEW."goods_amount", NEW."goods_received_at", NEW."id", NEW."inspection_passed", NEW."intercept_requested", NEW."is_compensation", NEW."next_deadline_at", NEW."next_deadline_kind", NEW."order_id", _pgh_attach_context(), NOW(), \'update\', NEW."id", NEW."reason_id", NEW."refund_amount", NEW."refund_requested_at", NEW."rejection_reason", NEW."replacement_shipped_at", NEW."reship_requested_at", NEW."return_address", NEW."return_contact", NEW."return_deadline", NEW."return_phone", NEW."review_started_at", NEW."reviewed_at", NEW."reviewer_id", NEW."service_fee", NEW."shipping_refund", NEW."shop_id", NEW."status", NEW."ticket_no", NEW."type", NEW."updated_at", NEW."virtual_currency_refund"); RETURN NULL;', hash='efb3d6651ec32140389046b9bc9d90088549d49a', operation='UPDATE', pgid='pgtrigger_update_update_c6bd0', table='tickets_ticket', when='AFTER')),
        ),
        pgtrigger.migrations.AddTrigger(
            model_name='ticket',
            trigger=pgtrigger.compiler.Trigger(name='delete_delete', sql=pgtrigger.compiler.UpsertTriggerSql(func='INSERT INTO "tickets_tickethistory" ("approved_at", "assignee_id", "buyer_id", "confirm_deadline", "coupon_refund", "created_at", "description", "escalated_at", "fee_reason", "finance_rejection_reason", "finished_at", "first_replied_at", "goods_amount", "goods_received_at", "id", "inspection_passed", "intercept_requested", "is_compensation", "next_deadline_at", "next_deadline_kind", "order_id", "pgh_context_id", "pgh_created_at", "pgh_label", "pgh_obj_id", "reason_id", "refund_amount", "refund_requested_at", "rejection_reason", "replacement_shipped_at", "reship_requested_at", "return_address", "return_contact", "return_deadline", "return_phone", "review_started_at", "reviewed_at", "reviewer_id", "service_fee", "shipping_refund", "shop_id", "status", "ticket_no", "type", "updated_at", "virtual_currency_refund") VALUES (OLD."approved_at", OLD."assignee_id", OLD."buyer_id", OLD."confirm_deadline", OLD."coupon_refund", OLD."created_at", OLD."description", OLD."escalated_at", OLD."fee_reason", OLD."finance_rejection_reason", OLD."finished_at", OLD."first_replied_at", OLD."goods_amount", OLD."goods_received_at", OLD."id", OLD."inspection_passed", OLD."intercept_requested", OLD."is_compensation", OLD."next_deadline_at", OLD."next_deadline_kind", OLD."order_id", _pgh_attach_context(), NOW(), \'delete\', OLD."id", OLD."reason_id", OLD."refund_amount", OLD."refund_requested_at", OLD."rejection_reason", OLD."replacement_shipped_at", OLD."reship_requested_at", OLD."return_address", OLD."return_contact", OLD."return_deadline", OLD."return_phone", OLD."review_started_at", OLD."reviewed_at", OLD."reviewer_id", OLD."service_fee", OLD."shipping_refund", OLD."shop_id", OLD."status", OLD."ticket_no", OLD."type", OLD."updated_at", OLD."virtual_currency_refund"); RETURN NULL;', hash='ad94e94f89e97ed6177e9272ff5221148508966f', operation='DELETE', pgid='pgtrigger_delete_delete_84422', table='tickets_ticket', when='AFTER')),
        ),
        migrations.RunPython(backfill_first_replies, migrations.RunPython.noop),
    ]
