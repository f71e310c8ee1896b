import os
import secrets

from django.contrib.auth import get_user_model
from django.contrib.auth.password_validation import validate_password
from django.core.exceptions import ValidationError
from django.core.management.base import BaseCommand, CommandError


class Command(BaseCommand):
    help = (
        "Create an admin user when there is none. The password comes from "
        "DJANGO_SUPERUSER_PASSWORD, else one is generated and printed once. A password "
        "that fails the password validators (AUTH_PASSWORD_VALIDATORS) is refused."
    )

    def handle(self, *args, **options):
        User = get_user_model()
        if User.objects.filter(is_superuser=True).exists():
            return
        username = os.environ.get("DJANGO_SUPERUSER_USERNAME", "admin")
        email = os.environ.get("DJANGO_SUPERUSER_EMAIL", "admin@example.com")
        password = os.environ.get("DJANGO_SUPERUSER_PASSWORD")
        generated = not password
        if generated:
            password = secrets.token_urlsafe(12)
        try:
            validate_password(password, user=User(username=username, email=email))
        except ValidationError as refused:
            raise CommandError(
                "DJANGO_SUPERUSER_PASSWORD is refused: "
                + " ".join(refused.messages)
                + " Choose another, or leave it unset to have one generated."
            ) from None
        User.objects.create_superuser(username=username, email=email, password=password)
        if generated:
            self.stdout.write(
                self.style.WARNING(
                    f"Created admin user '{username}' with password: {password}\n"
                    "It is shown only this once; set DJANGO_SUPERUSER_PASSWORD to choose one."
                )
            )
        else:
            self.stdout.write(f"Created admin user '{username}'.")
