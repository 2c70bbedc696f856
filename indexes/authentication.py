"""DRF authentication of source systems by ``Authorization: Bearer <key>``.

A vendor key names the installation it acts for in the ``Source-System`` header
(docs/api.md, "Authentication"); an installation key needs none.
"""

from rest_framework import authentication, exceptions

from indexes.api.problems import ProblemError
from indexes.services.credentials import (
    InstallationError,
    Refusal,
    credential_check,
    credential_installation,
)

SOURCE_SYSTEM_HEADER = "Source-System"


class SourceSystemPrincipal:
    """The authenticated caller of the index API: one source system via one key.

    DRF wants ``request.user``; this stands in for it so views can read
    ``request.user.source_system`` and permission checks see an authenticated caller.
    """

    is_authenticated = True
    is_anonymous = False

    def __init__(self, credential, source_system):
        self.credential = credential
        self.source_system = source_system

    def __str__(self) -> str:
        return str(self.source_system)


class KeyRefused(exceptions.AuthenticationFailed):
    """A 401 with a problem code saying why (``indexes.api.problems`` reads ``errors``)."""

    def __init__(self, code: str, detail: str, message: str):
        super().__init__(detail)
        self.errors = [{"pointer": "", "code": code, "message": message}]


class InstallationRefused(exceptions.PermissionDenied):
    """A 403: the key is valid but does not act for the installation the request names."""

    def __init__(self, code: str, message: str):
        super().__init__("Nøglen handler ikke for den angivne installation (Source-System).")
        self.errors = [{"pointer": "", "code": code, "message": message}]


class ApiKeyAuthentication(authentication.BaseAuthentication):
    """``Authorization: Bearer <key_id>.<secret>`` issued by ``credential_create``."""

    keyword = "Bearer"

    def authenticate(self, request):
        header = authentication.get_authorization_header(request).decode("latin-1")
        if not header:
            return None
        scheme, _, key = header.partition(" ")
        if scheme.lower() != self.keyword.lower() or not key.strip():
            raise exceptions.AuthenticationFailed(
                "Authorization-headeren skal have formen 'Bearer <nøgle>'."
            )
        credential = credential_check(key=key)
        if credential is None:
            raise exceptions.AuthenticationFailed("Ugyldig eller tilbagekaldt API-nøgle.")
        if isinstance(credential, Refusal):
            detail = {
                "key_revoked": "API-nøglen er tilbagekaldt.",
                "key_expired": "API-nøglen er udløbet; brug den nye nøgle.",
            }.get(credential.code, "API-nøglen kan ikke bruges.")
            raise KeyRefused(credential.code, detail, credential.message)
        try:
            system = credential_installation(
                credential=credential, requested=request.headers.get(SOURCE_SYSTEM_HEADER)
            )
        except InstallationError as error:
            if error.code == "source_system_not_covered":
                raise InstallationRefused(error.code, error.message) from None
            raise _installation_problem(error) from None
        return SourceSystemPrincipal(credential, system), credential

    def authenticate_header(self, request) -> str:
        return f'{self.keyword} realm="api"'


def _installation_problem(error: InstallationError):
    return ProblemError(
        status_code=400,
        detail="Source-System-headeren mangler eller er ugyldig.",
        errors=[{"pointer": "", "code": error.code, "message": error.message}],
    )
