"""The permission classes API endpoints use, including those for billing and balances."""

from types import SimpleNamespace

import pytest
from django.contrib.auth.models import AnonymousUser

from config.permissions import (
    CanResyncLinks,
    CanSendTimeForBilling,
    CanViewMatterBalances,
    ModelPermissions,
)
from contacts.models import Contact

pytestmark = pytest.mark.django_db

CLASSES = [
    (CanResyncLinks, "sync.resync_link"),
    (CanSendTimeForBilling, "timekeeping.send_time_for_billing"),
    (CanViewMatterBalances, "matters.view_matter_balance"),
]


@pytest.mark.parametrize(("permission_class", "perm"), CLASSES)
def test_each_action_permission_lets_in_only_users_holding_it(user_with, permission_class, perm):
    check = permission_class()

    assert check.has_permission(SimpleNamespace(user=user_with(perm)), None)
    assert not check.has_permission(SimpleNamespace(user=user_with()), None)
    assert not check.has_permission(SimpleNamespace(user=AnonymousUser()), None)


def test_the_balance_permission_is_not_the_default_view_permission(user_with):
    user = user_with("matters.view_matterbalance")

    assert not CanViewMatterBalances().has_permission(SimpleNamespace(user=user), None)


def test_model_permissions_need_view_to_read():
    required = ModelPermissions().get_required_permissions

    assert required("GET", Contact) == ["contacts.view_contact"]
    assert required("POST", Contact) == ["contacts.add_contact"]
    assert required("PATCH", Contact) == ["contacts.change_contact"]
