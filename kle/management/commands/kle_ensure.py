"""Placeholder until the importer lands: reports the taxonomy's state."""

from django.core.management.base import BaseCommand

from kle.models import Subject


class Command(BaseCommand):
    help = "Import KLE when the taxonomy is empty."

    def handle(self, *args, **options):
        self.stdout.write(f"KLE: {Subject.objects.count()} subjects present.")
