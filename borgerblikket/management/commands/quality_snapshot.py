"""`python manage.py quality_snapshot`: what the nightly data-quality snapshot does, by hand."""

import datetime as dt

from django.core.management.base import BaseCommand, CommandError

from borgerblikket.services.quality_snapshots import quality_snapshots_take
from indexes.models import Municipality


class Command(BaseCommand):
    help = (
        "Count every data-quality check per municipality and keep the counts as the day's "
        "point of each trend (admin → Datakvalitet → a check's trend). Running again the same "
        "day replaces that day's counts."
    )

    def add_arguments(self, parser):
        parser.add_argument(
            "--date", default=None, help="The day to store the counts as (YYYY-MM-DD; today)."
        )
        parser.add_argument(
            "--municipality",
            action="append",
            default=None,
            help="A municipality code (repeatable); default every one with a source system.",
        )

    def handle(self, *args, date=None, municipality=None, **options):
        day = None
        if date:
            try:
                day = dt.date.fromisoformat(date)
            except ValueError:
                raise CommandError("--date must be YYYY-MM-DD") from None
        municipalities = None
        if municipality:
            municipalities = list(Municipality.objects.filter(code__in=municipality))
            missing = set(municipality) - {m.code for m in municipalities}
            if missing:
                raise CommandError(f"unknown municipality: {', '.join(sorted(missing))}")
        rows = quality_snapshots_take(day=day, municipalities=municipalities)
        codes = sorted({row.municipality_id for row in rows})
        self.stdout.write(
            f"{len(rows)} counts for {len(codes)} municipalities"
            + (f" on {rows[0].taken_on:%Y-%m-%d}" if rows else "")
        )
