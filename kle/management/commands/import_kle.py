"""`python manage.py import_kle [SOURCE …]`: sync KLE files or URLs into the taxonomy."""

from django.conf import settings
from django.core.management.base import BaseCommand, CommandError

from kle.models import Publication
from kle.services.ensure import kle_api_url
from kle.services.errors import KleImportError
from kle.services.importer import kle_import_many


class Command(BaseCommand):
    help = (
        "Import (sync) KLE emneplan and handlingsfacetter files. SOURCE is a file path or an "
        "http(s) URL; without one, both are fetched from the KLE-online API (KLE_API_BASE). "
        "Formats: KLE XML 2.0 and the KLE-online REST 'fuld' format. Nothing is written "
        "unless every source is valid."
    )

    def add_arguments(self, parser):
        parser.add_argument("sources", nargs="*", metavar="SOURCE")
        parser.add_argument(
            "--allow-older",
            action="store_true",
            help="import a file published before the newest one already imported",
        )
        parser.add_argument(
            "--timeout",
            type=float,
            default=None,
            help=f"HTTP timeout in seconds (default KLE_HTTP_TIMEOUT={settings.KLE_HTTP_TIMEOUT})",
        )

    def handle(self, *args, sources, allow_older, timeout, **options):
        sources = sources or [
            kle_api_url(kind=Publication.Kind.SUBJECT_PLAN),
            kle_api_url(kind=Publication.Kind.ACTION_FACETS),
        ]
        try:
            reports = kle_import_many(sources=sources, allow_older=allow_older, timeout=timeout)
        except KleImportError as exc:
            raise CommandError(f"KLE import failed, nothing was changed: {exc}") from exc
        for report in reports:
            self.stdout.write(report.summary())
            for warning in report.warnings:
                self.stderr.write(f"warning: {report.source}: {warning}")
