"""The operator's roll-out approval of a product (issue 18, seed 004)."""

from django.db import transaction
from django.utils import timezone

from borgerblikket.models import ProductApproval
from indexes.models import SourceSystem


@transaction.atomic
def product_approve(*, source_system: SourceSystem, actor: str, note: str = "") -> ProductApproval:
    """Approve ``source_system``'s product for roll-out; the mark holds for every installation
    of the product. Approving again replaces the earlier mark (who, when, on which)."""
    approval, _ = ProductApproval.objects.update_or_create(
        product=source_system.product,
        defaults={
            "based_on": source_system,
            "approved_by": actor,
            "approved_at": timezone.now(),
            "note": note[:300],
        },
    )
    return approval


def product_approval_withdraw(*, product: str) -> bool:
    """Withdraw a product's roll-out approval; whether there was one."""
    deleted, _ = ProductApproval.objects.filter(product=product).delete()
    return bool(deleted)
