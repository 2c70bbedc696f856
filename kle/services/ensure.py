"""First-run KLE: import the taxonomy when it is empty, from the best source available.

Order: ``settings.KLE_SOURCE`` (space-separated files or URLs) when set — an
operator's explicit choice, so a failure there is an error; otherwise, per kind
(emneplan, handlingsfacetter), the first of these that can be read and is valid:
the KLE-online API (short timeout), the shared data folder
(``settings.SHARED_DIR / "data/kle"``), the hand-written fixture in ``kle/fixtures/``.
"""

from dataclasses import dataclass, field
from pathlib import Path

from django.conf import settings

from kle.models import Facet, Publication, Subject
from kle.services.errors import KleImportError
from kle.services.importer import ImportReport, LoadedFile, kle_file_load, kle_files_apply
from kle.services.records import record_set_complete

FIXTURE_DIR = Path(__file__).resolve().parent.parent / "fixtures"
FIXTURE_FILES = {
    Publication.Kind.SUBJECT_PLAN: FIXTURE_DIR / "KLE-Emneplan_fixture.xml",
    Publication.Kind.ACTION_FACETS: FIXTURE_DIR / "KLE-Handlingsfacetter_fixture.xml",
}
_SHARED_PATTERNS = {
    Publication.Kind.SUBJECT_PLAN: "KLE-Emneplan*.xml",
    Publication.Kind.ACTION_FACETS: "KLE-Handlingsfacetter*.xml",
}
_API_PATHS = {
    Publication.Kind.SUBJECT_PLAN: "emneplan",
    Publication.Kind.ACTION_FACETS: "handlingsfacetter",
}
SOURCE_SETTING = "KLE_SOURCE"
SOURCE_API = "the KLE-online API"
SOURCE_SHARED = "the shared data folder"
SOURCE_FIXTURE = "the packaged fixture"
# The API is tried first on every `make run`; without network it must give up fast.
API_TIMEOUT = 5.0


@dataclass
class UsedSource:
    kind: str
    label: str  # one of the SOURCE_* names
    source: str
    report: ImportReport | None = None
    # An excerpt completed by another source (e.g. the fixture), in the same import.
    completed_from: str = ""


@dataclass
class EnsureReport:
    """What kle_ensure found and did."""

    subjects_before: int
    facets_before: int
    used: list[UsedSource] = field(default_factory=list)
    skipped: list[str] = field(default_factory=list)  # why a candidate source was not used
    missing: list[str] = field(default_factory=list)  # kinds still empty: no source worked

    @property
    def already_present(self) -> bool:
        return not self.used and not self.missing


def kle_api_url(*, kind: str, base: str | None = None) -> str:
    """The KLE-online URL of a kind, including expired items (``?udgaaede=true``).

    ``base`` defaults to ``settings.KLE_API_BASE``.
    """
    base = settings.KLE_API_BASE if base is None else base
    return f"{base.rstrip('/')}/{_API_PATHS[kind]}?udgaaede=true"


def kle_newest_file(*, kind: str, folder: Path) -> Path | None:
    """The newest file of a kind in a folder (``KLE-Emneplan*.xml``, by name), if any."""
    files = sorted(folder.glob(_SHARED_PATTERNS[kind])) if folder.is_dir() else []
    return files[-1] if files else None


def kle_shared_file(*, kind: str) -> Path | None:
    """The newest file of a kind in the shared data folder, if there is one."""
    return kle_newest_file(kind=kind, folder=Path(settings.SHARED_DIR) / "data" / "kle")


def kle_ensure(*, api_timeout: float | None = None) -> EnsureReport:
    """Import the kinds of KLE that are empty (see module docstring); do nothing otherwise.

    Raises KleImportError when KLE_SOURCE is set and cannot be imported.
    """
    subjects, facets = Subject.objects.count(), Facet.objects.count()
    report = EnsureReport(subjects_before=subjects, facets_before=facets)
    needed = [
        kind
        for kind, count in (
            (Publication.Kind.SUBJECT_PLAN, subjects),
            (Publication.Kind.ACTION_FACETS, facets),
        )
        if not count
    ]
    if not needed:
        return report
    if settings.KLE_SOURCE.strip():
        chosen = _from_setting(needed, report)
    else:
        timeout = (
            min(settings.KLE_HTTP_TIMEOUT, API_TIMEOUT) if api_timeout is None else api_timeout
        )
        chosen = [item for kind in needed for item in _first_available(kind, timeout, report)]
    # The taxonomy of these kinds is empty, so no newer publication can be undone.
    imported = kle_files_apply(files=[loaded for loaded, _ in chosen], allow_older=True)
    for (_, used), import_report in zip(chosen, imported, strict=True):
        used.report = import_report
        report.used.append(used)
    report.missing = [kind for kind in needed if kind not in {u.kind for u in report.used}]
    return report


def _from_setting(needed: list[str], report: EnsureReport) -> list[tuple[LoadedFile, UsedSource]]:
    chosen = []
    for source in settings.KLE_SOURCE.split():
        loaded = kle_file_load(source=source)
        kind = loaded.document.kind
        if kind in needed:
            chosen.append((loaded, UsedSource(kind, SOURCE_SETTING, source)))
        else:
            report.skipped.append(f"{source}: {kind} is already present")
    return chosen


def _first_available(
    kind: str, timeout: float, report: EnsureReport
) -> list[tuple[LoadedFile, UsedSource]]:
    shared = kle_shared_file(kind=kind)
    candidates = [
        (SOURCE_API, kle_api_url(kind=kind)),
        (SOURCE_SHARED, str(shared) if shared else None),
        (SOURCE_FIXTURE, str(FIXTURE_FILES[kind])),
    ]
    for label, source in candidates:
        if source is None:
            report.skipped.append(
                f"{label}: no {kind} file in {Path(settings.SHARED_DIR) / 'data' / 'kle'}"
            )
            continue
        try:
            loaded = kle_file_load(source=source, timeout=timeout)
        except KleImportError as exc:
            report.skipped.append(f"{label}: {exc}")
            continue
        if loaded.document.kind != kind:
            report.skipped.append(f"{label}: {source} is {loaded.document.kind}, not {kind}")
            continue
        used = UsedSource(kind, label, source)
        if loaded.records.is_excerpt and label != SOURCE_FIXTURE:
            # An excerpt (the shared folder's handlingsfacetter file has category A only)
            # would leave the demo without G01, K08, …: the fixture fills the gaps, the
            # real excerpt wins where both speak, and the two are imported as one
            # publication (they were two imports, the second changing the first).
            fixture = kle_file_load(source=str(FIXTURE_FILES[kind]), timeout=timeout)
            used.completed_from = f"{SOURCE_FIXTURE} ({fixture.document.source})"
            loaded = LoadedFile(
                document=loaded.document,
                records=record_set_complete(
                    excerpt=loaded.records,
                    base=fixture.records,
                    base_source=used.completed_from,
                ),
            )
        return [(loaded, used)]
    return []
