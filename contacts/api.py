"""Contacts in API v1: read, create, change and resync. Every write queues a sync."""

from sync.api import ReadViewSet, RecordResyncMixin, RecordWriteMixin, record_schema

from .selectors import contact_list
from .serializers import ContactFilterSerializer, ContactInputSerializer, ContactOutputSerializer


@record_schema(
    "contacts", ContactOutputSerializer, ContactFilterSerializer, write=ContactInputSerializer
)
class ContactViewSet(RecordResyncMixin, RecordWriteMixin, ReadViewSet):
    """Contacts as the hub holds them, each with its Link Indicator."""

    selector = staticmethod(contact_list)
    serializer_class = ContactOutputSerializer
    filter_serializer_class = ContactFilterSerializer
    input_serializer_class = ContactInputSerializer
