from django.apps import AppConfig


class ReasonsConfig(AppConfig):
    name = "reasons"
    verbose_name = "Reasons"
