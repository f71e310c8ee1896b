"""The REST API v1 router: every app registers its viewsets here.

URLs under /api/v1/ that match no endpoint answer 404 in the API's error shape.
"""

from django.urls import re_path
from rest_framework.routers import DefaultRouter

from config.exceptions import api_not_found
from contacts.api import ContactViewSet
from matters.api import MatterViewSet
from sync.api import LinkViewSet, SyncEventViewSet
from timekeeping.api import BillingBatchViewSet, TimeEntryViewSet, TimekeeperViewSet

router = DefaultRouter()
router.register("contacts", ContactViewSet, basename="contact")
router.register("matters", MatterViewSet, basename="matter")
router.register("timekeepers", TimekeeperViewSet, basename="timekeeper")
router.register("time-entries", TimeEntryViewSet, basename="time-entry")
router.register("billing-batches", BillingBatchViewSet, basename="billing-batch")
router.register("links", LinkViewSet, basename="link")
router.register("sync-events", SyncEventViewSet, basename="sync-event")

urlpatterns = [
    *router.urls,
    # Only paths ending in "/", so APPEND_SLASH still redirects `/contacts` to `/contacts/`.
    re_path(r"^.*/$", api_not_found),
]
