"""`python manage.py kle_sync`: what the nightly job does, by hand (KLE sync + impact reports)."""

from django.core.management.base import BaseCommand

from borgerblikket.services.kle_releases import kle_release_sync


class Command(BaseCommand):
    help = (
        "Sync KLE from KLE-online (KLE_SYNC_API_BASE, conditional GET) or, failing that, the "
        "newest files of KLE_SYNC_DIR, then build the impact report of every new emneplan "
        "release on the municipalities' sheets. Exit status 0 also when a source failed: "
        "each source's outcome is printed."
    )

    def handle(self, *args, **options):
        report, releases = kle_release_sync()
        for step in report.steps:
            self.stdout.write(str(step))
        for release in releases:
            self.stdout.write(
                f"{release}: {release.row_count} sheet rows on expired or moved numbers in "
                f"{release.reports.count()} municipalities"
            )
