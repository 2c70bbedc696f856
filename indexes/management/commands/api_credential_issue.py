"""Issue an API key for a source system and print it once."""

from django.core.management.base import BaseCommand, CommandError

from indexes.models import SourceSystem
from indexes.services.credentials import credential_create


class Command(BaseCommand):
    help = (
        "Issue an API key for a source system. The key is printed once and stored "
        "only as a hash: hand it to the integrator now."
    )

    def add_arguments(self, parser):
        parser.add_argument("source_system", help="id of the source system, or MUNICIPALITY:NAME")
        parser.add_argument("--label", default="", help="what the key is for, e.g. 'prod 2025'")

    def handle(self, *args, source_system: str, label: str, **options):
        system = _source_system_find(source_system)
        credential, key = credential_create(source_system=system, label=label)
        self.stderr.write(
            f"Issued key {credential.key_id} for {system}. It is shown once; store it now."
        )
        self.stdout.write(key)


def _source_system_find(reference: str) -> SourceSystem:
    systems = SourceSystem.objects.select_related("municipality")
    try:
        if ":" in reference:
            code, name = reference.split(":", 1)
            return systems.get(municipality_id=code, name=name)
        return systems.get(pk=int(reference))
    except (SourceSystem.DoesNotExist, ValueError) as exc:
        raise CommandError(f"No source system {reference!r}.") from exc
