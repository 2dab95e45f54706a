from django.db import migrations


def carry_content_type(apps, schema_editor, source="aftersales", target="access"):
    """The API tokens' screen moved from the platform (aftersales) to this app: its content type moves with
    it, so the permissions on it, and the groups holding them, stay as they were."""
    ContentType = apps.get_model("contenttypes", "ContentType")
    ContentType.objects.filter(app_label=source, model="apitoken").update(app_label=target)


def carry_back(apps, schema_editor):
    carry_content_type(apps, schema_editor, source="access", target="aftersales")


class Migration(migrations.Migration):

    initial = True

    dependencies = [
        ("aftersales", "0008_api_token_proxy"),
        ("contenttypes", "0002_remove_content_type_name"),
        ("knox", "0009_extend_authtoken_field"),
    ]

    operations = [
        migrations.CreateModel(
            name="ApiToken",
            fields=[],
            options={
                "verbose_name": "API token",
                "verbose_name_plural": "API tokens",
                "proxy": True,
                "indexes": [],
                "constraints": [],
            },
            bases=("knox.authtoken",),
        ),
        migrations.RunPython(carry_content_type, carry_back),
    ]
