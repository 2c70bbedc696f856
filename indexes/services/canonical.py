"""Records in their canonical wire form, from validated data or from the database.

The same function shape serves three purposes: reading a record back
(``record_to_payload``), deciding whether a delivery changes anything
(compare the two forms) and the change history (before → after per field).
Lists whose order carries no meaning (related cases, document links,
benefits) are sorted, so a reordered delivery is not a change.
"""

import datetime
from decimal import Decimal
from typing import Any
from zoneinfo import ZoneInfo

from django.conf import settings

TZ = ZoneInfo(settings.TIME_ZONE)

# Fields that are not content: a delivery differing only here is not a change.
NOT_CONTENT = frozenset({"source_timestamp"})


def iso_datetime(value: datetime.datetime | None) -> str | None:
    if value is None:
        return None
    local = value.astimezone(TZ)
    # Before 1894 Copenhagen kept local mean time (+00:50:20); an RFC 3339
    # offset has no seconds, so such instants are written in UTC.
    if local.utcoffset().seconds % 60:
        local = value.astimezone(datetime.UTC)
    return local.isoformat()


def iso_date(value: datetime.date | None) -> str | None:
    return value.isoformat() if value is not None else None


def money(value: Decimal | None) -> str | None:
    return f"{value:.2f}" if value is not None else None


def _party(cpr: str | None, cvr: str | None = None) -> dict | None:
    if cpr:
        return {"cpr": cpr}
    if cvr:
        return {"cvr": cvr}
    return None


def _document_party(cpr: str | None, cvr: str | None, name: str) -> dict | None:
    """A document's sender or recipient; a name without a number is no party (the
    wire format refuses it)."""
    party = _party(cpr, cvr)
    if party is not None and name:
        party["name"] = name
    return party


def _document_party_from_data(party: dict | None) -> dict | None:
    party = party or {}
    return _document_party(party.get("cpr"), party.get("cvr"), party.get("name") or "")


def case_parties(parties: list | None) -> list[dict]:
    """A case's secondary parties as stored and read back: each ``{cpr|cvr, name?}``."""
    return [_document_party_from_data(item) for item in parties or []]


def _progress(periods) -> list[dict]:
    return [
        {"status": status, "from": iso_datetime(start), "to": iso_datetime(end)}
        for status, start, end in periods
    ]


# --- from validated data --------------------------------------------------------------


def case_from_data(data: dict) -> dict:
    party = data["party"] or {}
    return {
        "external_id": data["external_id"],
        "source_timestamp": iso_datetime(data["source_timestamp"]),
        "municipality": data["municipality"],
        "case_number": data["case_number"],
        "title": data["title"],
        "alternative_title": data["alternative_title"],
        "description": data["description"],
        "source_status_text": data["source_status_text"],
        "sensitivity": data["sensitivity"],
        "hidden_from_citizen": data["hidden_from_citizen"],
        "kle_number": data["kle_number"],
        "facet": data["facet"],
        "responsible_unit": data["responsible_unit"],
        "primary_caseworker": data["primary_caseworker"],
        "party": _party(party.get("cpr"), party.get("cvr")),
        "secondary_parties": case_parties(data.get("secondary_parties")),
        "benefit_recipient": _document_party_from_data(data.get("benefit_recipient")),
        "residence_municipality": data.get("residence_municipality"),
        "decision_class": data["decision_class"],
        "created_on": iso_date(data["created_on"]),
        "awaiting_party_since": iso_datetime(data["awaiting_party_since"]),
        "awaiting_party_due": iso_date(data["awaiting_party_due"]),
        "awaiting_party_reason": data["awaiting_party_reason"],
        "progress": _progress((p["status"], p["from"], p["to"]) for p in data["progress"]),
        "related_cases": sorted(set(data["related_cases"])),
    }


def document_from_data(data: dict) -> dict:
    return {
        "external_id": data["external_id"],
        "source_timestamp": iso_datetime(data["source_timestamp"]),
        "municipality": data["municipality"],
        "title": data["title"],
        "letter_date": iso_date(data["letter_date"]),
        "type": data["type"],
        "status": data["status"],
        "sensitivity": data["sensitivity"],
        "hidden_from_citizen": data["hidden_from_citizen"],
        "kle_number": data["kle_number"],
        "sender": _document_party_from_data(data.get("sender")),
        "recipient": _document_party_from_data(data.get("recipient")),
        "cases": sorted(
            (
                {"case_external_id": link["case_external_id"], "role": link["role"]}
                for link in data["cases"]
            ),
            key=lambda link: link["case_external_id"],
        ),
    }


def _plan_from_data(plan: dict | None) -> dict | None:
    if plan is None:
        return None
    return {
        "frequency": plan["frequency"],
        "timing": plan["timing"],
        "payment_day": plan["payment_day"],
        "amount": money(plan["amount"]),
        "start_on": iso_date(plan["start_on"]),
        "end_on": iso_date(plan["end_on"]),
    }


def benefit_from_data(benefit: dict) -> dict:
    return {
        "external_id": benefit["external_id"],
        "name": benefit["name"],
        "kind": benefit["kind"],
        "kle_number": benefit["kle_number"],
        "start_on": iso_date(benefit["start_on"]),
        "end_on": iso_date(benefit["end_on"]),
        "status": benefit["status"],
        "repayable": benefit["repayable"],
        "description": benefit["description"],
        "message": benefit["message"],
        "delivered_by": benefit["delivered_by"],
        "granted_by": benefit["granted_by"],
        "related_case": benefit["related_case"] or None,
        "related_case_number": benefit["related_case_number"] or None,
        "payment_plan": _plan_from_data(benefit["payment_plan"]),
    }


def grant_from_data(data: dict) -> dict:
    party = data["party"] or {}
    return {
        "external_id": data["external_id"],
        "source_timestamp": iso_datetime(data["source_timestamp"]),
        "municipality": data["municipality"],
        "case_number": data["case_number"],
        "party": _party(party.get("cpr")),
        "recipient": _document_party_from_data(data.get("recipient")),
        "start_on": iso_date(data["start_on"]),
        "end_on": iso_date(data["end_on"]),
        "reason": data["reason"],
        "sensitivity": data["sensitivity"],
        "status": data["status"],
        "related_case": data["related_case"] or None,
        "related_case_number": data["related_case_number"] or None,
        "benefits": sorted(
            (benefit_from_data(b) for b in data["benefits"]), key=lambda b: b["external_id"]
        ),
    }


def payment_from_data(data: dict) -> dict:
    return {
        "external_id": data["external_id"],
        "source_timestamp": iso_datetime(data["source_timestamp"]),
        "municipality": data["municipality"],
        "grant_external_id": data["grant_external_id"],
        "benefit_external_id": data["benefit_external_id"],
        "disposal_date": iso_date(data["disposal_date"]),
        "period": {
            "start": iso_date(data["period"]["start"]),
            "end": iso_date(data["period"]["end"]),
        },
        "gross_amount": money(data["gross_amount"]),
        "amount_after_tax": money(data["amount_after_tax"]),
        "amount_sent": money(data["amount_sent"]),
        "amount_paid": money(data["amount_paid"]),
        "paying_office": data["paying_office"],
    }


# --- from the database ----------------------------------------------------------------
# Each takes the instance plus its children as plain values, so the bulk path can
# load children for many records in one query and the read path can prefetch.


def case_from_instance(case, *, progress, related_external_ids) -> dict:
    return {
        "external_id": case.external_id,
        "source_timestamp": iso_datetime(case.source_timestamp),
        "municipality": case.municipality_id,
        "case_number": case.case_number,
        "title": case.title,
        "alternative_title": case.alternative_title,
        "description": case.description,
        "source_status_text": case.source_status_text,
        "sensitivity": case.sensitivity,
        "hidden_from_citizen": case.hidden_from_citizen,
        "kle_number": case.kle_subject.number,
        "facet": case.facet.code,
        "responsible_unit": case.responsible_unit,
        "primary_caseworker": case.primary_caseworker,
        "party": _party(case.party_cpr, case.party_cvr),
        "secondary_parties": case_parties(case.secondary_parties),
        "benefit_recipient": _document_party(
            case.benefit_recipient_cpr, case.benefit_recipient_cvr, case.benefit_recipient_name
        ),
        "residence_municipality": case.residence_municipality_id,
        "decision_class": case.decision_class,
        "created_on": iso_date(case.created_on),
        "awaiting_party_since": iso_datetime(case.awaiting_party_since),
        "awaiting_party_due": iso_date(case.awaiting_party_due),
        "awaiting_party_reason": case.awaiting_party_reason,
        "progress": _progress(sorted(progress, key=lambda p: p[1])),
        "related_cases": sorted(set(related_external_ids)),
    }


def document_from_instance(document, *, links) -> dict:
    """``links``: (case external id, role) pairs."""
    return {
        "external_id": document.external_id,
        "source_timestamp": iso_datetime(document.source_timestamp),
        "municipality": document.municipality_id,
        "title": document.title,
        "letter_date": iso_date(document.letter_date),
        "type": document.type,
        "status": document.status,
        "sensitivity": document.sensitivity,
        "hidden_from_citizen": document.hidden_from_citizen,
        "kle_number": document.kle_subject.number if document.kle_subject_id else None,
        "sender": _document_party(document.sender_cpr, document.sender_cvr, document.sender_name),
        "recipient": _document_party(
            document.recipient_cpr, document.recipient_cvr, document.recipient_name
        ),
        "cases": [{"case_external_id": case_id, "role": role} for case_id, role in sorted(links)],
    }


def _plan_from_instance(plan) -> dict | None:
    if plan is None:
        return None
    return {
        "frequency": plan.frequency,
        "timing": plan.timing,
        "payment_day": plan.payment_day,
        "amount": money(plan.amount),
        "start_on": iso_date(plan.start_on),
        "end_on": iso_date(plan.end_on),
    }


def benefit_from_instance(benefit, *, plan) -> dict:
    return {
        "external_id": benefit.external_id,
        "name": benefit.name,
        "kind": benefit.kind,
        "kle_number": benefit.kle_subject.number,
        "start_on": iso_date(benefit.start_on),
        "end_on": iso_date(benefit.end_on),
        "status": benefit.status,
        "repayable": benefit.repayable,
        "description": benefit.description,
        "message": benefit.message,
        "delivered_by": benefit.delivered_by,
        "granted_by": benefit.granted_by,
        "related_case": benefit.related_case_external_id or None,
        "related_case_number": benefit.related_case_number or None,
        "payment_plan": _plan_from_instance(plan),
    }


def grant_from_instance(grant, *, benefits: list[tuple[Any, Any]]) -> dict:
    """``benefits``: (benefit, its payment plan or None) pairs."""
    return {
        "external_id": grant.external_id,
        "source_timestamp": iso_datetime(grant.source_timestamp),
        "municipality": grant.municipality_id,
        "case_number": grant.case_number,
        "party": _party(grant.party_cpr),
        "recipient": _document_party(
            grant.recipient_cpr, grant.recipient_cvr, grant.recipient_name
        ),
        "start_on": iso_date(grant.start_on),
        "end_on": iso_date(grant.end_on),
        "reason": grant.reason,
        "sensitivity": grant.sensitivity,
        "status": grant.status,
        "related_case": grant.related_case_external_id or None,
        "related_case_number": grant.related_case_number or None,
        "benefits": sorted(
            (benefit_from_instance(b, plan=plan) for b, plan in benefits),
            key=lambda b: b["external_id"],
        ),
    }


def payment_from_instance(payment, *, grant_external_id: str, benefit_external_id: str) -> dict:
    return {
        "external_id": payment.external_id,
        "source_timestamp": iso_datetime(payment.source_timestamp),
        "municipality": payment.municipality_id,
        "grant_external_id": grant_external_id,
        "benefit_external_id": benefit_external_id,
        "disposal_date": iso_date(payment.disposal_date),
        "period": {"start": iso_date(payment.period_start), "end": iso_date(payment.period_end)},
        "gross_amount": money(payment.gross_amount),
        "amount_after_tax": money(payment.amount_after_tax),
        "amount_sent": money(payment.amount_sent),
        "amount_paid": money(payment.amount_paid),
        "paying_office": payment.paying_office,
    }


def content_diff(before: dict | None, after: dict) -> dict[str, list]:
    """``{field: [before, after]}`` for every content field that differs.

    For a new record (``before`` None) only fields with a value are listed: an
    empty or false field is the default and says nothing.
    """
    if before is None:
        return {
            key: [None, value]
            for key, value in after.items()
            if key not in NOT_CONTENT and value not in (None, "", [], False)
        }
    return {
        key: [before.get(key), value]
        for key, value in after.items()
        if key not in NOT_CONTENT and before.get(key) != value
    }
