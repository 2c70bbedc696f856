"""Revoke an API key by its public key id."""

from django.core.management.base import BaseCommand, CommandError

from indexes.models import ApiCredential
from indexes.services.credentials import credential_revoke


class Command(BaseCommand):
    help = "Revoke an API key (by its key id, the part before the dot). Idempotent."

    def add_arguments(self, parser):
        parser.add_argument("key_id")

    def handle(self, *args, key_id: str, **options):
        try:
            credential = ApiCredential.objects.select_related("source_system").get(key_id=key_id)
        except ApiCredential.DoesNotExist as exc:
            raise CommandError(f"No API key with id {key_id!r}.") from exc
        credential_revoke(credential=credential)
        self.stdout.write(f"Revoked {credential}.")
