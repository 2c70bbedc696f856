"""`python manage.py demo_load`: the demo, loaded through the real pipeline when the index is empty.

Run by `make run` after `kle_ensure`. It registers simulated source systems
(FASIT, SBSYS, Nexus, KMD Ydelse) in Odense, Syddjurs and Fredensborg, their
feeds served by the stand-ins at SIMULATORS_URL; imports their configuration
sheets (written for the demo, in simulators/sheets/) with the sheet import
service; and asks each feed to be polled over HTTP: at once when Celery runs
tasks eagerly (no broker; this command serves the stand-ins itself meanwhile
unless they answer already), otherwise by the worker `make run` starts.

On an index that holds data it loads nothing, but points the stand-ins' feeds
at SIMULATORS_URL (a port changed since the last run).
"""

from django.conf import settings
from django.contrib.auth import get_user_model
from django.core.management.base import BaseCommand, CommandError

from borgerblikket.models import TitleSource
from borgerblikket.services.sheet_io import sheet_import_apply, sheet_import_start
from borgerblikket.services.sheets import sheet_settings_update
from indexes.models import Case, Document, FeedPoll, Grant, Municipality, Payment
from kle.models import Subject
from simulators.demo import (
    DEMO_CITIZENS_PER_MUNICIPALITY,
    DEMO_SHEETS,
    demo_feeds_poll,
    demo_feeds_register,
    index_is_empty,
)
from simulators.feeds import stand_in_feeds_point_to, stand_ins_serving, stand_ins_url

DEMO_USER = "overblik-demo"
# The switches of each demo sheet (the sheet files carry none).
SHEET_SETTINGS = {
    "461": {"show_document_titles": False, "title_source": TitleSource.KLE},
    "706": {"show_document_titles": True, "title_source": TitleSource.CASE},
    "210": {
        "show_document_titles": True,
        "show_active_cases_before_show_from": True,
        "title_source": TitleSource.CASE,
    },
}


class Command(BaseCommand):
    help = "Load the demo (source systems, sheets, polled feeds) when the index is empty."

    def add_arguments(self, parser):
        parser.add_argument(
            "--force", action="store_true", help="load even if the index already holds data"
        )
        parser.add_argument(
            "--citizens",
            type=int,
            default=DEMO_CITIZENS_PER_MUNICIPALITY,
            help="simulated citizens per municipality besides the demo citizens",
        )

    def handle(self, *args, force, citizens, **options):
        if not index_is_empty() and not force:
            self.stdout.write("Demo: the index already holds data; nothing loaded.")
            if stand_in_feeds_point_to():
                self.stdout.write(f"Demo: the simulated feeds poll {stand_ins_url()}.")
            return
        if not Subject.objects.exists():
            raise CommandError("KLE is empty: run `manage.py kle_ensure` first.")
        demo = demo_feeds_register(citizens=citizens)
        for kind, number in demo.kle_overrides.items():
            self.stdout.write(f"Demo: the loaded KLE lacks {kind}'s number; using {number}.")
        user = self._demo_user()
        for code, path in DEMO_SHEETS.items():
            municipality = Municipality.objects.get(code=code)
            if not path.exists():
                self.stdout.write(f"Demo: {path} is missing; {municipality.name} has no sheet.")
                continue
            upload, _plan = sheet_import_start(
                municipality=municipality,
                user=user,
                file_name=path.name,
                content=path.read_bytes(),
                file_format="tsv",
            )
            plan = sheet_import_apply(sheet_import=upload, user=user)
            self.stdout.write(
                f"Demo: {municipality.name}'s sheet: {len(plan.added)} rows added, "
                f"{len(plan.changed)} changed, {len(plan.rejected)} rejected."
            )
            for line in plan.rejected:
                self.stdout.write(
                    f"  line {line.line} ({line.kle_number}): {'; '.join(line.errors)}"
                )
            sheet_settings_update(municipality=municipality, values=SHEET_SETTINGS[code], user=user)
        if settings.CELERY_TASK_ALWAYS_EAGER:
            with stand_ins_serving():
                polled = demo_feeds_poll(feeds=demo.feeds)
            polls = FeedPoll.objects.filter(feed__in=demo.feeds)
            rejected = sum(poll.rejected for poll in polls)
            self.stdout.write(
                f"Demo: polled {polled} feeds: {Case.objects.count()} cases, "
                f"{Document.objects.count()} documents, {Grant.objects.count()} grants, "
                f"{Payment.objects.count()} payments; {rejected} deliveries rejected "
                "(the simulated faults; see the admin's polls)."
            )
        else:
            polled = demo_feeds_poll(feeds=demo.feeds)
            self.stdout.write(
                f"Demo: {polled} feed polls queued; the Celery worker fills the index."
            )

    def _demo_user(self):
        """The (inactive, password-less) user the demo's sheet imports are logged under."""
        user, created = get_user_model().objects.get_or_create(
            username=DEMO_USER, defaults={"is_active": False}
        )
        if created:
            user.set_unusable_password()
            user.save(update_fields=["password"])
        return user
