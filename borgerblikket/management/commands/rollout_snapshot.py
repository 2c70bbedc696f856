"""`python manage.py rollout_snapshot`: what the nightly roll-out snapshot does, by hand."""

from django.core.management.base import BaseCommand

from borgerblikket.selectors.rollout import week_label
from borgerblikket.services.rollout import rollout_snapshot_take


class Command(BaseCommand):
    help = (
        "Record where each of the 98 municipalities stands in the roll-out (the four "
        "categories), in all the mandatory numbers, every roll-out stage and the KLE areas "
        "in use, as this ISO week's history. A later run in the same week replaces the "
        "week's rows; earlier weeks are kept."
    )

    def handle(self, *args, **options):
        result = rollout_snapshot_take()
        self.stdout.write(
            f"Roll-out snapshot of week {week_label(result.week)} "
            f"(Monday {result.week:%Y-%m-%d}): {result.areas} areas, {result.rows} rows."
        )
