"""The roles of the admin, as Django groups with permissions (docs/roles.md).

A municipal user's role is per municipality (``Membership.role``); the role's group holds
what the role may do, and the membership says where. Municipal users are not put in these
groups themselves: a group's permissions count only inside the municipality of the
membership (``borgerblikket.selectors.scoping``), never site-wide. The national operator is
a user in ``OPERATOR_GROUP`` (staff, not superuser): the group's permissions count for every
municipality through Django's own permission check.

``borgerblikket.services.roles.roles_sync`` writes these definitions to the database after
every ``migrate``; they are code, not settings: a group changed in the admin is set back.
"""

from borgerblikket.models import Membership

Role = Membership.Role

ROLE_GROUPS: dict[str, str] = {
    Role.LEAD: "Kommunal hovedadministrator",
    Role.ADMIN: "Kommunal administrator",
    Role.AREA: "Områdeadministrator",
    Role.MANAGER: "Leder (kun læseadgang)",
}
OPERATOR_GROUP = "Driftsoperatør"


def _model(app_model: str, *actions: str) -> set[str]:
    app, model = app_model.split(".")
    return {f"{app}.{action}_{model}" for action in actions}


# Working on rows of the sheet: an area admin does it for their areas only.
SHEET_ROWS = (
    _model("borgerblikket.sheetrow", "view", "add", "change", "delete", "import", "export")
    | _model("borgerblikket.sheetchange", "view", "revert")
    | _model("indexes.municipality", "view")
)
# What a municipal administrator did before roles existed (every membership was this).
MUNICIPAL_ADMIN = (
    SHEET_ROWS
    | _model("borgerblikket.sheet", "view", "add", "change")
    | _model("borgerblikket.kleimpactreport", "view", "move")
    | _model("borgerblikket.retentioncount", "view")
    | _model("borgerblikket.approvedklenumber", "view", "add", "change", "delete")
    | {
        "borgerblikket.view_quality",
        "borgerblikket.view_quality_records",
        "borgerblikket.preview_citizen",
        "borgerblikket.view_rollout",
        "borgerblikket.view_usage",
    }
    | _model("indexes.sourcesystem", "view", "change")
    | set().union(
        *(
            _model(f"indexes.{name}", "view")
            for name in ("case", "document", "grant", "grantedbenefit", "payment", "change")
        )
    )
    | _model("indexes.dataaccess", "view")
)

ROLE_PERMISSIONS: dict[str, frozenset[str]] = {
    ROLE_GROUPS[Role.LEAD]: frozenset(
        MUNICIPAL_ADMIN | _model("borgerblikket.membership", "view", "add", "change", "delete")
    ),
    ROLE_GROUPS[Role.ADMIN]: frozenset(MUNICIPAL_ADMIN),
    # Their areas' rows, and a KLE release's impact on them (the report shows and moves
    # only the rows of their areas, to successors inside them).
    ROLE_GROUPS[Role.AREA]: frozenset(
        SHEET_ROWS | _model("borgerblikket.kleimpactreport", "view", "move")
    ),
    # Follows quality, roll-out and usage; changes nothing, sees no citizen's record.
    ROLE_GROUPS[Role.MANAGER]: frozenset(
        _model("borgerblikket.sheetrow", "view")
        | _model("borgerblikket.sheet", "view")
        | _model("borgerblikket.approvedklenumber", "view")
        | _model("indexes.municipality", "view")
        | {"borgerblikket.view_quality", "borgerblikket.view_rollout", "borgerblikket.view_usage"}
    ),
    # Every municipality: roll-out, national data, memberships; no citizen's record, no user
    # accounts, no API keys (superusers), no schedules.
    OPERATOR_GROUP: frozenset(
        {"borgerblikket.view_quality", "borgerblikket.view_rollout", "borgerblikket.view_usage"}
        | _model("borgerblikket.sheetrow", "view", "export")
        | _model("borgerblikket.sheet", "view")
        | _model("borgerblikket.sheetchange", "view")
        | _model("borgerblikket.kleimpactreport", "view")
        | _model("borgerblikket.retentioncount", "view")
        | _model("borgerblikket.approvedklenumber", "view")
        | _model("borgerblikket.membership", "view", "add", "change", "delete")
        | _model("borgerblikket.mandatoryklenumber", "view", "add", "change", "delete")
        | _model("borgerblikket.rolloutstage", "view", "add", "change", "delete")
        | _model("borgerblikket.titleabbreviation", "view", "add", "change", "delete")
        | _model("borgerblikket.titleleadword", "view", "add", "change", "delete")
        | _model("borgerblikket.klerelease", "view")
        | _model("borgerblikket.retentionrun", "view")
        | _model("indexes.municipality", "view")
        | _model("indexes.sourcesystem", "view", "add", "change")
        | _model("indexes.sourcefeed", "view")
        | _model("indexes.feedpoll", "view")
        | _model("indexes.inboxbatch", "view")
        | set().union(
            *(
                _model(f"kle.{name}", "view")
                for name in ("subject", "facetcategory", "facet", "publication", "syncsource")
            )
        )
    ),
}
