"""Who may open what in the admin, for admins whose model permissions are not the answer.

`ReadOnlyAdmin` shows records and never changes them, whatever permissions a user holds:
viewing needs one named permission, and the model's add, change and delete permissions
grant nothing, so no combination of them turns a page into a form, a delete button or a
bulk delete. `SuperuserOnlyAdmin` opens nothing to anyone but a superuser, whatever
permissions they hold.
"""

from django.contrib.auth import get_permission_codename


class ReadOnlyAdmin:
    """Put before `admin.ModelAdmin` (or the admin it narrows) in the bases."""

    # "app_label.codename"; the model's own `view_<model>` when empty.
    view_permission = ""

    def has_view_permission(self, request, obj=None):
        return request.user.has_perm(self.view_permission or self.model_view_permission())

    def model_view_permission(self) -> str:
        return f"{self.opts.app_label}.{get_permission_codename('view', self.opts)}"

    def has_add_permission(self, request, *args):
        return False

    def has_change_permission(self, request, obj=None):
        return False

    def has_delete_permission(self, request, obj=None):
        return False


class SuperuserOnlyAdmin:
    """Put before the admin it narrows in the bases; that admin's own refusals stay."""

    def has_module_permission(self, request):
        return request.user.is_superuser and super().has_module_permission(request)

    def has_view_permission(self, request, obj=None):
        return request.user.is_superuser and super().has_view_permission(request, obj)

    def has_add_permission(self, request, *args):
        return request.user.is_superuser and super().has_add_permission(request, *args)

    def has_change_permission(self, request, obj=None):
        return request.user.is_superuser and super().has_change_permission(request, obj)

    def has_delete_permission(self, request, obj=None):
        return request.user.is_superuser and super().has_delete_permission(request, obj)
