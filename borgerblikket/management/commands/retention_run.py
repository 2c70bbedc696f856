"""`python manage.py retention_run`: what the nightly retention job does, by hand."""

from django.core.management.base import BaseCommand, CommandError
from django.utils import timezone

from borgerblikket.models import RetentionRun
from borgerblikket.selectors.retention import KINDS, retention_due_counts
from borgerblikket.services.retention import retention_run


class Command(BaseCommand):
    help = (
        "Delete the closed cases whose KLE deletion period (or the municipality's shorter "
        "setting) has run from closing, with their documents, benefits and history, and the "
        "access log older than OVERBLIK_ACCESS_LOG_RETENTION_DAYS, and the delivery logs "
        "(finished inbox batches, feed rejections and polls) older than "
        "OVERBLIK_INBOX_RETENTION_DAYS / OVERBLIK_FEED_LOG_RETENTION_DAYS. Prints the counts per "
        "municipality (never contents). --dry-run prints what would go and deletes nothing."
    )

    def add_arguments(self, parser):
        parser.add_argument(
            "--dry-run", action="store_true", help="Print what is due; delete nothing."
        )
        parser.add_argument(
            "--batch-size",
            type=int,
            default=None,
            help="Cases per transaction (default OVERBLIK_RETENTION_BATCH_SIZE).",
        )

    def handle(self, *args, dry_run=False, batch_size=None, **options):
        if batch_size is not None and batch_size < 1:
            raise CommandError("--batch-size must be at least 1")
        if dry_run:
            today = timezone.localdate()
            counts = retention_due_counts(today=today)
            self.stdout.write(f"Due on {today:%Y-%m-%d} (nothing deleted):")
            for code, kinds in counts.items():
                self.stdout.write(f"  {code}: " + _line(kinds))
            if not counts:
                self.stdout.write("  nothing")
            return
        run = retention_run(trigger=RetentionRun.Trigger.COMMAND, batch_size=batch_size)
        self.stdout.write(f"Retention run {run.pk} ({run.today:%Y-%m-%d}): {run.batches} batches.")
        by_municipality: dict[str, dict[str, int]] = {}
        for count in run.counts.all():
            by_municipality.setdefault(count.municipality_id or "-", {})[count.kind] = count.count
        for code, kinds in sorted(by_municipality.items()):
            self.stdout.write(f"  {code}: " + _line(kinds))
        if not by_municipality:
            self.stdout.write("  nothing deleted")


def _line(kinds: dict[str, int]) -> str:
    order = [*KINDS, "access_log", "batch", "batch_record", "feed_poll", "feed_reject"]
    return ", ".join(f"{kinds[k]} {k}" for k in order if k in kinds)
