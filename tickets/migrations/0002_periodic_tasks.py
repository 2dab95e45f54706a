from django.db import migrations

SCHEDULES = [
    # name, task, every (minutes)
    ("Deadline sweep (close, auto-confirm, escalate)", "tickets.tasks.run_deadlines_task", 5),
    ("Purge idempotency keys older than 48 hours", "aftersales.tasks.purge_idempotency_keys", 60),
]


def install(apps, schema_editor):
    IntervalSchedule = apps.get_model("django_celery_beat", "IntervalSchedule")
    PeriodicTask = apps.get_model("django_celery_beat", "PeriodicTask")
    for name, task, minutes in SCHEDULES:
        every, _ = IntervalSchedule.objects.get_or_create(every=minutes, period="minutes")
        PeriodicTask.objects.get_or_create(name=name, defaults={"task": task, "interval": every})


class Migration(migrations.Migration):
    dependencies = [("tickets", "0001_initial"), ("django_celery_beat", "0019_alter_periodictasks_options")]
    operations = [migrations.RunPython(install, migrations.RunPython.noop)]
