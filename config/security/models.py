from knox.models import AuthToken


class ApiToken(AuthToken):
    """A key for `Authorization: Token <key>`. django-rest-knox stores a SHA-512 hash of
    it and its first 15 characters (to find the row); the key is shown once, when made."""

    class Meta:
        proxy = True
        verbose_name = "API token"

    def __str__(self) -> str:
        # knox's own names the row by its digest, which would reach the admin's log.
        return f"API token of {self.user} made {self.created:%Y-%m-%d %H:%M}"
