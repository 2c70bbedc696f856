"""`python manage.py demo_accounts`: the admin accounts of the demo, with their passwords.

Run by `make run`; refused unless ``settings.OVERBLIK_DEMO_ACCOUNTS`` (never in production).
"""

from django.core.management.base import BaseCommand, CommandError

from simulators.demo_accounts import DemoAccountsRefused, demo_accounts_ensure


class Command(BaseCommand):
    help = "Create (or reset) the demo's Odense admin and national operator, and print them."

    def handle(self, *args, **options):
        try:
            accounts = demo_accounts_ensure()
        except DemoAccountsRefused as exc:
            raise CommandError(f"No demo accounts: {exc}.") from None
        self.stdout.write("Demo admin accounts (the admin at /admin/):")
        for account in accounts:
            self.stdout.write(
                f"  {account.username:<14} password {account.password:<24} {account.role}"
            )
