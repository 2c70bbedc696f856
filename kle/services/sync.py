"""The scheduled KLE sync: KLE-online with conditional requests, a folder of files as fallback.

For each kind (emneplan, handlingsfacetter) the sync asks
``{KLE_SYNC_API_BASE}/<kind>?udgaaede=true`` with the ``ETag`` and
``Last-Modified`` it remembered for that URL (``SyncSource``), so an unchanged
plan is a 304 and nothing is read. When the API is not configured (empty
setting), cannot be reached, answers an error or sends an invalid file, the
newest ``KLE-Emneplan*.xml`` / ``KLE-Handlingsfacetter*.xml`` of
``KLE_SYNC_DIR`` is used instead. A file whose bytes were imported before is
"unchanged", one published before the newest imported publication is skipped
(importing it would undo later changes), and anything else goes through the
importer (``kle.services.importer``), one transaction per file.

A source that fails is logged (source, problem) and reported; it never raises,
so the next source, the next kind and the next scheduled run still happen.
"""

import hashlib
import logging
from dataclasses import dataclass, field
from pathlib import Path

from django.conf import settings
from django.db.models import Max
from django.utils import timezone

from kle.models import Publication, SyncSource
from kle.services.documents import kle_source_read, kle_url_fetch
from kle.services.ensure import kle_api_url, kle_newest_file
from kle.services.errors import KleImportError
from kle.services.importer import ImportReport, kle_bytes_load, kle_files_apply

logger = logging.getLogger("kle.sync")

KINDS = (Publication.Kind.SUBJECT_PLAN, Publication.Kind.ACTION_FACETS)
Outcome = SyncSource.Outcome


@dataclass
class SyncStep:
    """What one source of one kind gave."""

    kind: str
    source: str
    outcome: str  # SyncSource.Outcome
    message: str
    report: ImportReport | None = None

    def __str__(self) -> str:
        return f"{self.kind}: {self.source or '-'}: {Outcome(self.outcome).label}: {self.message}"


@dataclass
class SyncReport:
    """Every source the sync asked, in order, and what came of it."""

    steps: list[SyncStep] = field(default_factory=list)

    @property
    def imported(self) -> list[ImportReport]:
        return [step.report for step in self.steps if step.report is not None]

    @property
    def failed(self) -> list[SyncStep]:
        return [step for step in self.steps if step.outcome == Outcome.FAILED]


def kle_sync(*, timeout: float | None = None) -> SyncReport:
    """Sync both kinds from KLE-online (conditional GET), else from the file folder.

    Never raises for an unreachable or invalid source: it is logged and reported
    (``SyncReport.failed``) and the file source is tried.
    """
    timeout = settings.KLE_HTTP_TIMEOUT if timeout is None else timeout
    report = SyncReport()
    for kind in KINDS:
        step = None
        if settings.KLE_SYNC_API_BASE.strip():
            step = _from_api(kind=kind, timeout=timeout)
            report.steps.append(step)
        if step is None or step.outcome == Outcome.FAILED:
            report.steps.append(_from_folder(kind=kind))
    return report


def _from_api(*, kind: str, timeout: float) -> SyncStep:
    url = kle_api_url(kind=kind, base=settings.KLE_SYNC_API_BASE)
    state = _state(source=url, kind=kind)
    try:
        answer = kle_url_fetch(
            url=url, timeout=timeout, etag=state.etag, last_modified=state.last_modified
        )
    except KleImportError as exc:
        logger.warning("KLE sync: %s is not available (%s); trying the file source", url, exc)
        return _record(state, kind, Outcome.FAILED, f"not available: {exc}", keep_validators=True)
    if answer.data is None:
        logger.info("KLE sync: %s not modified (304)", url)
        return _record(
            state,
            kind,
            Outcome.NOT_MODIFIED,
            "not modified since the last check",
            etag=answer.etag,
            last_modified=answer.last_modified,
        )
    return _apply(
        state=state,
        kind=kind,
        data=answer.data,
        etag=answer.etag,
        last_modified=answer.last_modified,
    )


def _from_folder(*, kind: str) -> SyncStep:
    folder_setting = settings.KLE_SYNC_DIR.strip()
    if not folder_setting:
        message = "no file source (KLE_SYNC_DIR is empty)"
        logger.info("KLE sync: %s: %s", kind, message)
        return SyncStep(kind, "", Outcome.SKIPPED, message)
    folder = Path(folder_setting)
    path = kle_newest_file(kind=kind, folder=folder)
    if path is None:
        message = f"no {kind} file in {folder}"
        logger.info("KLE sync: %s", message)
        return SyncStep(kind, str(folder), Outcome.SKIPPED, message)
    state = _state(source=str(path), kind=kind)
    try:
        data = kle_source_read(source=str(path), timeout=0)
    except KleImportError as exc:
        logger.error("KLE sync: cannot read %s: %s", path, exc)
        return _record(state, kind, Outcome.FAILED, f"cannot read: {exc}")
    return _apply(state=state, kind=kind, data=data)


def _apply(
    *, state: SyncSource, kind: str, data: bytes, etag: str = "", last_modified: str = ""
) -> SyncStep:
    """Import ``data`` unless it was imported before or is older than what is imported."""
    validators = {"etag": etag, "last_modified": last_modified}
    sha256 = hashlib.sha256(data).hexdigest()
    known = Publication.objects.filter(kind=kind, sha256=sha256).order_by("-imported_at").first()
    if known is not None:
        message = f"already imported ({known}, {known.imported_at:%Y-%m-%d %H:%M})"
        return _record(state, kind, Outcome.UNCHANGED, message, **validators)
    try:
        loaded = kle_bytes_load(data=data, source=state.source)
    except KleImportError as exc:
        logger.error(
            "KLE sync: %s is not a valid KLE file, nothing imported: %s", state.source, exc
        )
        # No validators: the next run fetches it again (it may be corrected by then).
        return _record(state, kind, Outcome.FAILED, f"invalid, nothing imported: {exc}")
    document = loaded.document
    if document.kind != kind:
        message = f"holds {document.kind}, not {kind}; nothing imported"
        logger.error("KLE sync: %s %s", state.source, message)
        return _record(state, kind, Outcome.FAILED, message)
    newest = Publication.objects.filter(kind=kind).aggregate(newest=Max("published_on"))["newest"]
    if newest and document.published_on < newest:
        message = (
            f"published {document.published_on} is older than the newest imported "
            f"{kind} ({newest}); not imported"
        )
        logger.info("KLE sync: %s %s", state.source, message)
        return _record(state, kind, Outcome.SKIPPED, message, **validators)
    try:
        report = kle_files_apply(files=[loaded])[0]
    except KleImportError as exc:
        logger.error("KLE sync: %s could not be imported, nothing changed: %s", state.source, exc)
        return _record(state, kind, Outcome.FAILED, f"not imported: {exc}")
    logger.info("KLE sync: %s", report.summary())
    step = _record(
        state,
        kind,
        Outcome.IMPORTED,
        report.summary(),
        publication_id=report.publication_id,
        **validators,
    )
    step.report = report
    return step


def _state(*, source: str, kind: str) -> SyncSource:
    return SyncSource.objects.get_or_create(source=source[:500], defaults={"kind": kind})[0]


def _record(
    state: SyncSource,
    kind: str,
    outcome: str,
    message: str,
    *,
    etag: str | None = None,
    last_modified: str | None = None,
    keep_validators: bool = False,
    publication_id: int | None = None,
) -> SyncStep:
    """Remember what a source said; validators are replaced only by a handled answer."""
    if not keep_validators:
        state.etag = (etag or "")[:500]
        state.last_modified = (last_modified or "")[:100]
    state.checked_at = timezone.now()
    state.outcome = outcome
    state.message = message
    if publication_id is not None:
        state.publication_id = publication_id
    state.save()
    return SyncStep(kind, state.source, outcome, message)
