"""Keeps the emulated systems' data in the `sandbox` database alias.

The hub and the sandbox never share tables: the hub reaches the sandbox only over
HTTP, as it would reach the real systems.
"""

SANDBOX_APP_LABELS = frozenset({"sandbox", "sandbox_pm", "sandbox_la"})
SANDBOX_DATABASE = "sandbox"


def _is_sandbox(model) -> bool:
    return model._meta.app_label in SANDBOX_APP_LABELS


class SandboxRouter:
    def db_for_read(self, model, **hints):
        return SANDBOX_DATABASE if _is_sandbox(model) else None

    def db_for_write(self, model, **hints):
        return SANDBOX_DATABASE if _is_sandbox(model) else None

    def allow_relation(self, obj1, obj2, **hints):
        if _is_sandbox(obj1) != _is_sandbox(obj2):
            return False
        return None

    def allow_migrate(self, db, app_label, **hints):
        if app_label in SANDBOX_APP_LABELS:
            return db == SANDBOX_DATABASE
        return db != SANDBOX_DATABASE
