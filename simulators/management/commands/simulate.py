"""`python manage.py simulate --citizens N --municipalities M`: a population for benchmarks."""

import time

from django.core.management.base import BaseCommand, CommandError

from simulators.bulk import PopulationError, population_load


class Command(BaseCommand):
    help = (
        "Write a realistic population (cases, progress, documents and links, grants, benefits, "
        "payment plans and payments) with PostgreSQL COPY, and print the rate. "
        "Bypasses the ingestion services: a load generator for benchmarks, not a source system."
    )

    def add_arguments(self, parser):
        parser.add_argument("--citizens", type=int, required=True, help="how many citizens")
        parser.add_argument(
            "--municipalities", type=int, default=3, help="spread over this many (1-98)"
        )
        parser.add_argument("--seed", type=int, default=1, help="same seed, same population")

    def handle(self, *args, citizens, municipalities, seed, **options):
        verbose = options["verbosity"] > 1
        started = time.perf_counter()

        def progress(message: str) -> None:
            self.stdout.write(f"[{time.perf_counter() - started:6.1f} s] {message}")

        try:
            report = population_load(
                citizens=citizens,
                municipalities=municipalities,
                seed=seed,
                progress=progress if verbose else None,
            )
        except PopulationError as exc:
            raise CommandError(str(exc)) from exc
        if report.skipped_kinds:
            self.stdout.write(
                "Skipped (their KLE numbers are not in the index's KLE): "
                + ", ".join(report.skipped_kinds)
            )
        self.stdout.write(self.style.SUCCESS(report.summary()))
