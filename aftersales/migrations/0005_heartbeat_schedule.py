"""The worker's heartbeat for /health/ready, every 30 seconds (editable in admin: Periodic tasks)."""

from django.db import migrations


def install(apps, schema_editor):
    IntervalSchedule = apps.get_model("django_celery_beat", "IntervalSchedule")
    PeriodicTask = apps.get_model("django_celery_beat", "PeriodicTask")
    every, _ = IntervalSchedule.objects.get_or_create(every=30, period="seconds")
    PeriodicTask.objects.get_or_create(name="Worker heartbeat (health/ready)",
                                       defaults={"task": "aftersales.tasks.heartbeat", "interval": every})


class Migration(migrations.Migration):
    dependencies = [("aftersales", "0004_list_columns"), ("django_celery_beat", "0019_alter_periodictasks_options")]
    operations = [migrations.RunPython(install, migrations.RunPython.noop)]
