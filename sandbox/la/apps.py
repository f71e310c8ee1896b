from django.apps import AppConfig


class SandboxLAConfig(AppConfig):
    name = "sandbox.la"
    label = "sandbox_la"
    verbose_name = "Sandbox: Legal Accounting"
