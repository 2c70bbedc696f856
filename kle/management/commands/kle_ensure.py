"""`python manage.py kle_ensure`: import KLE when the taxonomy is empty (run by `make run`)."""

from django.core.management.base import BaseCommand, CommandError

from kle.services.ensure import kle_ensure
from kle.services.errors import KleImportError


class Command(BaseCommand):
    help = (
        "Import KLE when the taxonomy is empty: from KLE_SOURCE if set, else the KLE-online "
        "API, else the shared data folder, else the packaged fixture. Does nothing otherwise."
    )

    def handle(self, *args, **options):
        try:
            report = kle_ensure()
        except KleImportError as exc:
            raise CommandError(
                f"KLE_SOURCE could not be imported, nothing was changed: {exc}"
            ) from exc
        if report.already_present:
            self.stdout.write(
                f"KLE is already present ({report.subjects_before} KLE numbers, "
                f"{report.facets_before} handlingsfacetter); nothing to do."
            )
            return
        for reason in report.skipped:
            self.stdout.write(f"KLE: not used: {reason}")
        for used in report.used:
            completed = f", completed from {used.completed_from}" if used.completed_from else ""
            self.stdout.write(
                f"KLE {used.kind}: imported from {used.label} ({used.source}){completed}"
            )
            self.stdout.write(f"  {used.report.summary()}")
        if report.missing:
            raise CommandError(f"KLE {', '.join(report.missing)}: no source could be imported")
