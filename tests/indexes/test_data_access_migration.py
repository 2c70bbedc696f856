"""Migrations 0008-0009: existing access-log rows become who (role, municipality) and what (words).

The rows the code wrote before (issue 11.12: "administrator odense-admin…",
"admin list: sager") are classified from their texts, get their municipality
back from the label or the source system, and keep the old texts (CPR masked) as
the admin's internal note.
"""

import pytest
from django.db import connection
from django.db.migrations.executor import MigrationExecutor

pytestmark = [pytest.mark.django_db(transaction=True)]

BEFORE = ("indexes", "0007_case_awaiting_party_since")
AFTER = ("indexes", "0009_data_access_without_user_names")
CPR = "0101701234"


def _migrate(target):
    executor = MigrationExecutor(connection)
    executor.loader.build_graph()
    executor.migrate([target])
    return executor.loader.project_state([target]).apps


def _migrate_to_latest() -> None:
    """Every app to its newest migration (not to AFTER: later tests need the later ones)."""
    executor = MigrationExecutor(connection)
    executor.loader.build_graph()
    executor.migrate(executor.loader.graph.leaf_nodes())


def test_old_rows_are_classified_and_keep_their_texts_for_the_audit():
    old = _migrate(BEFORE)
    try:
        DataAccess = old.get_model("indexes", "DataAccess")
        SourceSystem = old.get_model("indexes", "SourceSystem")
        system = SourceSystem.objects.create(
            municipality_id="461", product="SBSYS", name="SBSYS Odense"
        )
        rows = {
            "list": DataAccess.objects.create(
                citizen_cpr=CPR,
                actor_type="municipal_admin",
                actor_label="Odense Kommune, administrator odense-admin",
                purpose="Så dine oplysninger i en liste i administrationen",
                detail="admin list: sager",
            ),
            "record": DataAccess.objects.create(
                citizen_cpr=CPR,
                actor_type="operator",
                actor_label="Administrator root",
                purpose="Så posten i administrationen",
                detail="sag: 2024-1 Afgørelse vedr. barn 010170-1234",
            ),
            "quality csv": DataAccess.objects.create(
                citizen_cpr=CPR,
                actor_type="municipal_admin",
                actor_label="Odense Kommune, administrator odense-admin",
                purpose="Så dine oplysninger i en liste i administrationen",
                detail="admin list: Sagstitler, der bryder titelreglerne (Odense) (CSV)",
            ),
            "preview": DataAccess.objects.create(
                citizen_cpr=CPR,
                actor_type="municipal_admin",
                actor_label="Odense Kommune, administrator odense-admin",
                purpose="Vis som borger (kontrol af Borgerblikket-opsætningen)",
                municipality_id="461",
            ),
            "api": DataAccess.objects.create(
                citizen_cpr=CPR,
                actor_type="source_system",
                actor_label="Fagsystemet SBSYS Odense, Odense",
                purpose="Fagsystemet læste sine egne indberetninger tilbage via indeks-API'et",
                detail="case: c-1",
                source_system=system,
            ),
            "unknown": DataAccess.objects.create(
                citizen_cpr=CPR, actor_type="support", actor_label="Support", purpose="test"
            ),
        }
        ids = {name: row.pk for name, row in rows.items()}

        new = _migrate(AFTER)
        migrated = {
            name: new.get_model("indexes", "DataAccess").objects.get(pk=pk)
            for name, pk in ids.items()
        }
        expected = {
            "list": ("admin_list", "case", "461"),
            "record": ("admin_record", "case", None),
            "quality csv": ("quality_download", "case", "461"),
            "preview": ("preview", "all", "461"),
            "api": ("api_readback", "case", "461"),
            "unknown": ("other", "", None),
        }
        for name, (channel, kind, municipality) in expected.items():
            row = migrated[name]
            assert (row.channel, row.record_kind, row.municipality_id) == (
                channel,
                kind,
                municipality,
            ), name
        # The old texts stay for the admin's audit, with any CPR-shaped number masked.
        assert "odense-admin" in migrated["list"].detail
        assert "admin list: sager" in migrated["list"].detail
        assert "010170-****" in migrated["record"].detail
        assert "010170-1234" not in migrated["record"].detail
    finally:
        _migrate_to_latest()
