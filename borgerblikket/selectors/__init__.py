"""Reads of borgerblikket. ``visibility`` is the only path from the indexes to a citizen."""

from borgerblikket.selectors.visibility import (
    CitizenDocument,
    CitizenProgress,
    ExposedArea,
    benefit_contact,
    benefits_visible_to_citizen,
    case_awaits_citizen,
    case_contact,
    case_progress_visible_to_citizen,
    case_visible_to_citizen,
    cases_awaiting_citizen,
    cases_visible_to_citizen,
    cpr_normalise,
    documents_visible_for_case,
    exposed_areas_for_citizen,
    exposed_areas_for_municipality,
    payments_visible_to_citizen,
)

__all__ = [
    "CitizenDocument",
    "CitizenProgress",
    "ExposedArea",
    "benefit_contact",
    "benefits_visible_to_citizen",
    "case_awaits_citizen",
    "case_contact",
    "case_progress_visible_to_citizen",
    "case_visible_to_citizen",
    "cases_awaiting_citizen",
    "cases_visible_to_citizen",
    "cpr_normalise",
    "documents_visible_for_case",
    "exposed_areas_for_citizen",
    "exposed_areas_for_municipality",
    "payments_visible_to_citizen",
]
