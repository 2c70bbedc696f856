"""DRF authentication of source systems by ``Authorization: Bearer <key>``."""

from rest_framework import authentication, exceptions

from indexes.services.credentials import credential_authenticate


class SourceSystemPrincipal:
    """The authenticated caller of the index API: one source system via one key.

    DRF wants ``request.user``; this stands in for it so views can read
    ``request.user.source_system`` and permission checks see an authenticated caller.
    """

    is_authenticated = True
    is_anonymous = False

    def __init__(self, credential):
        self.credential = credential
        self.source_system = credential.source_system

    def __str__(self) -> str:
        return str(self.source_system)


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
        credential = credential_authenticate(key=key)
        if credential is None:
            raise exceptions.AuthenticationFailed("Ugyldig eller tilbagekaldt API-nøgle.")
        return SourceSystemPrincipal(credential), credential

    def authenticate_header(self, request) -> str:
        return f'{self.keyword} realm="api"'
