from django.apps import AppConfig


class SandboxPMConfig(AppConfig):
    name = "sandbox.pm"
    label = "sandbox_pm"
    verbose_name = "Sandbox: Practice Management"
