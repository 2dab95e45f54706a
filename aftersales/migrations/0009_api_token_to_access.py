from django.db import migrations


class Migration(migrations.Migration):
    """The ApiToken proxy now belongs to the access app (access 0001 takes it, with its content type)."""

    dependencies = [
        ("aftersales", "0008_api_token_proxy"),
        ("access", "0001_initial"),
    ]

    operations = [
        migrations.DeleteModel(name="ApiToken"),
    ]
