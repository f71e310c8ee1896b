"""Who may do what through the API: Django's model permissions, plus the hub's own.

Reading needs the model's `view_<model>` permission, writing its `add_`/`change_`
permission (`ModelPermissions`). Work that reaches the other systems has a permission
of its own, one class each, so an endpoint states exactly what it needs.
"""

from rest_framework.permissions import BasePermission, DjangoModelPermissions

VIEW = "%(app_label)s.view_%(model_name)s"


class ModelPermissions(DjangoModelPermissions):
    """Django model permissions, with `view_<model>` required to read as well.

    A method the endpoint does not offer is let through so the view answers 405
    rather than 403: the caller learns the method is wrong, not that they lack a right.
    """

    perms_map = {
        "GET": [VIEW],
        "OPTIONS": [VIEW],
        "HEAD": [VIEW],
        "POST": ["%(app_label)s.add_%(model_name)s"],
        "PUT": ["%(app_label)s.change_%(model_name)s"],
        "PATCH": ["%(app_label)s.change_%(model_name)s"],
        "DELETE": ["%(app_label)s.delete_%(model_name)s"],
    }

    def has_permission(self, request, view):
        if not (request.user and request.user.is_authenticated):
            return False
        if not hasattr(view, request.method.lower()):
            return True
        return super().has_permission(request, view)


class UserHasPermission(BasePermission):
    """The signed-in user holds `permission` (an "app_label.codename")."""

    permission = ""

    def has_permission(self, request, view):
        user = request.user
        return bool(user and user.is_authenticated and user.has_perm(self.permission))


class CanResyncLinks(UserHasPermission):
    """Queue a fresh sync of a record with PM and LA (the admin's "Resync now")."""

    permission = "sync.resync_link"
    message = "You may not resync records with PM and LA."


class CanSendTimeForBilling(UserHasPermission):
    """Send time entries to LA for billing (ARCHITECTURE §2 "Time")."""

    permission = "timekeeping.send_time_for_billing"
    message = "You may not send time entries to LA for billing."


class CanViewMatterBalances(UserHasPermission):
    """Read a matter's balances from LA (ARCHITECTURE §2 "Matter balances")."""

    permission = "matters.view_matter_balance"
    message = "You may not view matter balances."
