"""The LA REST API, v1 (docs/legal-accounting-api.md is its contract).

Views are thin: parse the request with an input serializer, call a service or a
selector, answer with an output serializer. Decisions:

- JSON only, snake_case, no trailing slashes.
- Every error answers `{"error": {"code", "message", "field", ...}}` (`api_exception_handler`).
  Malformed requests are 400, rule breaks 422, clashes and locks 409, auth 401.
- Lists are paged by `page` and `page_size` (default 50, max 200) and answer
  `{"count", "next", "previous", "results"}`.
"""

import datetime

from django.http import Http404
from django.utils import timezone
from django.utils.dateparse import parse_date, parse_datetime
from rest_framework import exceptions, status
from rest_framework.pagination import PageNumberPagination
from rest_framework.parsers import JSONParser
from rest_framework.permissions import IsAuthenticated
from rest_framework.renderers import JSONRenderer
from rest_framework.response import Response
from rest_framework.views import APIView
from rest_framework.views import exception_handler as drf_exception_handler

from . import selectors, services
from .authentication import LATokenAuthentication
from .errors import BadRequest, LAError, NotFound, first_error
from .models import Contact, FeeEarner, File, Invoice, LASettings, TimeEntry, Webhook
from .serializers import (
    BalanceOutput,
    BillInput,
    ContactInput,
    ContactOutput,
    FeeEarnerInput,
    FeeEarnerOutput,
    FileInput,
    FileOutput,
    InvoiceOutput,
    SettingsInput,
    SettingsOutput,
    TimeEntryOutput,
    TimeEntryUpdateInput,
    TransactionInput,
    TransactionOutput,
    WebhookInput,
    WebhookOutput,
)

# A multi-value filter (`pm_contact_id__in=1,2,3`) takes at most a page's worth of values.
MAX_LIST_VALUES = 200

STATUS_CODES = {
    400: "bad_request",
    401: "unauthorized",
    403: "forbidden",
    404: "not_found",
    405: "method_not_allowed",
    406: "not_acceptable",
    415: "unsupported_media_type",
}


def api_exception_handler(exc, context):
    """Answer every error with the API's one error body."""
    if isinstance(exc, LAError):
        return Response(exc.body(), status=exc.status)
    if isinstance(exc, Http404):
        exc = exceptions.NotFound("no such record")
    if isinstance(exc, exceptions.ValidationError):
        field, message, code = first_error(exc.detail)
        body = {"code": code, "message": message, "field": field, "errors": exc.detail}
        return Response({"error": body}, status=422)
    response = drf_exception_handler(exc, context)
    if response is None:
        return None
    code = STATUS_CODES.get(response.status_code, "error")
    message = str(exc.detail) if isinstance(exc, exceptions.APIException) else str(exc)
    if isinstance(exc, exceptions.NotAuthenticated):
        message = "send the API token as 'Authorization: Bearer <token>'"
    response.data = {"error": {"code": code, "message": message, "field": None}}
    return response


class LAPagination(PageNumberPagination):
    page_size = 50
    page_size_query_param = "page_size"
    max_page_size = 200


class LAView(APIView):
    authentication_classes = [LATokenAuthentication]
    permission_classes = [IsAuthenticated]
    parser_classes = [JSONParser]
    renderer_classes = [JSONRenderer]

    def get_exception_handler(self):
        return api_exception_handler

    def paginated(self, queryset, serializer_class, **context) -> Response:
        paginator = LAPagination()
        page = paginator.paginate_queryset(queryset, self.request, view=self)
        data = serializer_class(page, many=True, context=context).data
        return paginator.get_paginated_response(data)

    def param(self, name: str) -> str | None:
        value = self.request.query_params.get(name)
        return value if value not in (None, "") else None

    def param_list(self, name: str) -> list[str] | None:
        """A filter of several values, comma-separated, at most MAX_LIST_VALUES."""
        value = self.param(name)
        if value is None:
            return None
        values = [part.strip() for part in value.split(",") if part.strip()]
        if len(values) > MAX_LIST_VALUES:
            raise BadRequest(f"{name} takes at most {MAX_LIST_VALUES} values", field=name)
        return values

    def param_int(self, name: str) -> int | None:
        value = self.param(name)
        if value is None:
            return None
        if not value.isdigit():
            raise BadRequest(f"{name} must be an id (a whole number)", field=name)
        return int(value)

    def param_modified_since(self, name: str = "modified_since") -> datetime.datetime | None:
        """`modified_since` (or another moment, `name`): ISO 8601. A `+` sent unencoded in
        a query string arrives as a space, so a space before the offset is read as `+`; a
        date means its midnight UTC and a time without an offset is UTC."""
        value = self.param(name)
        if value is None:
            return None
        value = value.strip()
        moment, day = _parse_moment(value)
        if moment is None and day is None and " " in value:
            moment, day = _parse_moment("+".join(value.rsplit(" ", 1)))
        if day is not None:
            moment = datetime.datetime.combine(day, datetime.time.min)
        if moment is None:
            raise BadRequest(f"{name} {value!r} is not an ISO 8601 date-time", field=name)
        if timezone.is_naive(moment):
            moment = timezone.make_aware(moment, datetime.UTC)
        return moment

    def valid(self, serializer_class, *, instance=None, partial: bool = False) -> dict:
        serializer = serializer_class(instance, data=self.request.data, partial=partial)
        serializer.is_valid(raise_exception=True)
        return serializer.validated_data


def _parse_moment(value: str) -> tuple[datetime.datetime | None, datetime.date | None]:
    try:
        moment = parse_datetime(value)
        return moment, None if moment else parse_date(value)
    except ValueError:
        return None, None


def get_or_404(model, pk: int, label: str):
    record = model.objects.filter(pk=pk).first()
    if record is None:
        raise NotFound(f"no {label} has id {pk}")
    return record


# Contacts -------------------------------------------------------------------------------


class ContactCollection(LAView):
    def get(self, request):
        contacts = selectors.contact_list(
            modified_since=self.param_modified_since(),
            pm_contact_id=self.param("pm_contact_id"),
            pm_contact_ids=self.param_list("pm_contact_id__in"),
            contact_number=self.param("contact_number"),
            email=self.param("email"),
        )
        return self.paginated(contacts, ContactOutput)

    def post(self, request):
        contact = services.contact_create(data=self.valid(ContactInput))
        return Response(ContactOutput(contact).data, status=status.HTTP_201_CREATED)


class ContactDetail(LAView):
    def get(self, request, pk: int):
        return Response(ContactOutput(get_or_404(Contact, pk, "contact")).data)

    def patch(self, request, pk: int):
        contact = get_or_404(Contact, pk, "contact")
        data = self.valid(ContactInput, instance=contact, partial=True)
        contact = services.contact_update(contact=contact, data=data)
        return Response(ContactOutput(contact).data)


# Files ----------------------------------------------------------------------------------


class FileCollection(LAView):
    def get(self, request):
        files = selectors.file_list(
            modified_since=self.param_modified_since(),
            pm_matter_id=self.param("pm_matter_id"),
            pm_matter_ids=self.param_list("pm_matter_id__in"),
            file_number=self.param("file_number"),
            contact=self.param_int("contact"),
        )
        return self.paginated(files, FileOutput)

    def post(self, request):
        file = services.file_create(data=self.valid(FileInput))
        return Response(FileOutput(file).data, status=status.HTTP_201_CREATED)


class FileDetail(LAView):
    def get(self, request, pk: int):
        return Response(FileOutput(get_or_404(File, pk, "file")).data)

    def patch(self, request, pk: int):
        file = get_or_404(File, pk, "file")
        data = self.valid(FileInput, instance=file, partial=True)
        return Response(FileOutput(services.file_update(file=file, data=data)).data)


class FileBill(LAView):
    def post(self, request, pk: int):
        file = get_or_404(File, pk, "file")
        invoice = services.file_bill(file=file, **self.valid(BillInput))
        context = {"currency": LASettings.load().currency}
        return Response(InvoiceOutput(invoice, context=context).data, status=201)


class FileTransactions(LAView):
    def get(self, request, pk: int):
        file = get_or_404(File, pk, "file")
        return self.paginated(selectors.transaction_list(file=file.pk), TransactionOutput)

    def post(self, request, pk: int):
        file = get_or_404(File, pk, "file")
        record = services.transaction_record(file=file, **self.valid(TransactionInput))
        return Response(TransactionOutput(record).data, status=status.HTTP_201_CREATED)


class FileBalance(LAView):
    def get(self, request, pk: int):
        balance = services.file_balance(file=get_or_404(File, pk, "file"))
        return Response(BalanceOutput(balance).data)


class BalanceCollection(LAView):
    """Many files' balances a page at a time: those of `file__in`, or those changed since
    `changed_since` (a bill, a time entry, a ledger movement), or all."""

    def get(self, request):
        files = selectors.balance_file_list(
            changed_since=self.param_modified_since("changed_since"),
            file_ids=self._ids("file__in"),
        )
        paginator = LAPagination()
        page = paginator.paginate_queryset(files, request, view=self)
        balances = [services.file_balance(file=file) for file in page]
        return paginator.get_paginated_response(BalanceOutput(balances, many=True).data)

    def _ids(self, name: str) -> list[str] | None:
        ids = self.param_list(name)
        if ids is not None and not all(value.isdigit() for value in ids):
            raise BadRequest(f"{name} takes file ids (whole numbers), comma-separated", field=name)
        return ids


# Fee earners ----------------------------------------------------------------------------


class FeeEarnerCollection(LAView):
    def get(self, request):
        fee_earners = selectors.fee_earner_list(
            modified_since=self.param_modified_since(), email=self.param("email")
        )
        return self.paginated(fee_earners, FeeEarnerOutput)

    def post(self, request):
        fee_earner = services.fee_earner_create(**self.valid(FeeEarnerInput))
        return Response(FeeEarnerOutput(fee_earner).data, status=status.HTTP_201_CREATED)


class FeeEarnerDetail(LAView):
    def get(self, request, pk: int):
        return Response(FeeEarnerOutput(get_or_404(FeeEarner, pk, "fee earner")).data)


# Time entries ---------------------------------------------------------------------------


class TimeEntryCollection(LAView):
    def get(self, request):
        status_filter = self.param("status")
        if status_filter is not None and status_filter not in TimeEntry.Status.values:
            raise BadRequest("status is unbilled or billed", field="status")
        entries = selectors.time_entry_list(
            modified_since=self.param_modified_since(),
            file=self.param_int("file"),
            external_id=self.param("external_id"),
            status=status_filter,
        )
        return self.paginated(entries, TimeEntryOutput)


class TimeEntryBatch(LAView):
    def post(self, request):
        entries = request.data.get("entries") if isinstance(request.data, dict) else None
        results = services.time_entries_create_batch(entries=entries)
        return Response({"results": [result.as_dict() for result in results]})


class TimeEntryDetail(LAView):
    def get(self, request, pk: int):
        return Response(TimeEntryOutput(get_or_404(TimeEntry, pk, "time entry")).data)

    def patch(self, request, pk: int):
        entry = get_or_404(TimeEntry, pk, "time entry")
        data = self.valid(TimeEntryUpdateInput, instance=entry, partial=True)
        entry = services.time_entry_update(time_entry=entry, data=data)
        return Response(TimeEntryOutput(entry).data)

    def delete(self, request, pk: int):
        services.time_entry_delete(time_entry=get_or_404(TimeEntry, pk, "time entry"))
        return Response(status=status.HTTP_204_NO_CONTENT)


# Invoices, settings, webhooks -----------------------------------------------------------


class InvoiceCollection(LAView):
    def get(self, request):
        invoices = selectors.invoice_list(file=self.param_int("file"))
        return self.paginated(invoices, InvoiceOutput, currency=LASettings.load().currency)


class InvoiceDetail(LAView):
    def get(self, request, pk: int):
        invoice = get_or_404(Invoice, pk, "invoice")
        context = {"currency": LASettings.load().currency}
        return Response(InvoiceOutput(invoice, context=context).data)


class SettingsDetail(LAView):
    def get(self, request):
        return Response(SettingsOutput(LASettings.load()).data)

    def patch(self, request):
        settings = services.settings_update(data=self.valid(SettingsInput, partial=True))
        return Response(SettingsOutput(settings).data)


class WebhookCollection(LAView):
    def get(self, request):
        return self.paginated(selectors.webhook_list(), WebhookOutput)

    def post(self, request):
        webhook = services.webhook_create(**self.valid(WebhookInput))
        return Response(WebhookOutput(webhook).data, status=status.HTTP_201_CREATED)


class WebhookDetail(LAView):
    def get(self, request, pk: int):
        return Response(WebhookOutput(get_or_404(Webhook, pk, "webhook")).data)

    def delete(self, request, pk: int):
        services.webhook_delete(webhook=get_or_404(Webhook, pk, "webhook"))
        return Response(status=status.HTTP_204_NO_CONTENT)
