"""The admin narrowed where the app that registers a model can't say it itself, and the
API tokens' admin.

- django-q2's schedules, queued tasks, successes and failures are for superusers only:
  a schedule names any importable function with any arguments (`subprocess.getoutput`
  included), so whoever may add one runs code as the hub's user.
- API tokens are made here and their key shown once; only a hash is stored.

This app comes after knox and django_q in INSTALLED_APPS, and imports their admins
before narrowing them.
"""

from datetime import timedelta

from django import forms
from django.conf import settings
from django.contrib import admin
from django.contrib.auth import get_user_model
from django.template.response import TemplateResponse
from django.utils import timezone
from django_q import admin as django_q_admin
from django_q.models import Failure, OrmQ, Schedule, Success
from knox import admin as knox_admin  # noqa: F401  (registers knox's admin, undone below)
from knox.models import AuthToken

from config.admin_access import SuperuserOnlyAdmin

from .models import ApiToken
from .services import api_token_create


class ScheduleAdmin(SuperuserOnlyAdmin, django_q_admin.ScheduleAdmin):
    pass


class SuccessAdmin(SuperuserOnlyAdmin, django_q_admin.TaskAdmin):
    pass


class FailureAdmin(SuperuserOnlyAdmin, django_q_admin.FailAdmin):
    pass


class QueuedTaskAdmin(SuperuserOnlyAdmin, django_q_admin.QueueAdmin):
    pass


NARROWED = [
    (Schedule, ScheduleAdmin),
    (Success, SuccessAdmin),
    (Failure, FailureAdmin),
    (OrmQ, QueuedTaskAdmin),  # registered by django-q2 only with the ORM broker
]

for model, model_admin in NARROWED:
    if admin.site.is_registered(model):
        admin.site.unregister(model)
        admin.site.register(model, model_admin)

# knox's own admin lists each token's digest and makes keys through a message kept in
# the session; tokens are managed as `ApiToken` below instead.
admin.site.unregister(AuthToken)


class ApiTokenForm(forms.ModelForm):
    class Meta:
        model = ApiToken
        fields = ["user", "expiry"]
        help_texts = {"expiry": "Empty: the token never expires."}

    def clean_expiry(self):
        expiry = self.cleaned_data["expiry"]
        if expiry is not None and expiry <= timezone.now():
            raise forms.ValidationError("Choose a time in the future.")
        return expiry


@admin.register(ApiToken)
class ApiTokenAdmin(admin.ModelAdmin):
    """Tokens are made here and never changed; deleting one revokes it. The key is on
    the page that answers "Save", once: the hub keeps only its hash. A superuser makes
    tokens for anyone; a user holding `security.add_apitoken` for themselves, and sees
    and revokes only their own."""

    form = ApiTokenForm
    fields = ["user", "expiry", "created"]
    readonly_fields = ["created"]
    list_display = ["user", "created", "expiry"]
    list_select_related = ["user"]
    search_fields = ["user__username", "user__email"]
    ordering = ["-created"]

    def get_queryset(self, request):
        tokens = super().get_queryset(request)
        if request.user.is_superuser:
            return tokens
        return tokens.filter(user=request.user)

    def get_fields(self, request, obj=None):
        return ["user", "expiry"] if obj is None else self.fields

    def get_changeform_initial_data(self, request):
        days = settings.API_TOKEN_LIFETIME_DAYS
        return {
            "user": request.user.pk,
            "expiry": timezone.now() + timedelta(days=days) if days else None,
        }

    def formfield_for_foreignkey(self, db_field, request, **kwargs):
        if db_field.name == "user" and not request.user.is_superuser:
            kwargs["queryset"] = get_user_model().objects.filter(pk=request.user.pk)
        return super().formfield_for_foreignkey(db_field, request, **kwargs)

    def has_change_permission(self, request, obj=None):
        return False

    def save_model(self, request, obj, form, change):
        token, key = api_token_create(user=obj.user, expires_at=obj.expiry)
        obj.pk, obj.token_key, obj.created = token.pk, token.token_key, token.created
        obj._state.adding = False
        obj.key = key

    def response_add(self, request, obj, post_url_continue=None):
        """The key, once, on the answer to "Save" itself: it is never stored, not even
        in a message waiting in the session."""
        return TemplateResponse(
            request,
            "admin/security/apitoken/created.html",
            {
                **self.admin_site.each_context(request),
                "title": "API token made",
                "opts": self.opts,
                "token": obj,
                "key": obj.key,
            },
        )
