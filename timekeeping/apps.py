from django.apps import AppConfig


class TimekeepingConfig(AppConfig):
    name = "timekeeping"
