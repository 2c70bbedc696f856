"""Importing KLE: an idempotent sync of files into the taxonomy, never a wipe.

Each item of a file is compared in memory with the row of the same number (or
code) and falls into exactly one bucket: created, expired (Historisk/UdgaaetDato
newly set), moved (Historisk/Flyttet newly set), changed (any other difference
in the fields the file's format carries) or unchanged. Rows the file does not
mention are counted as absent and left alone: KLE keeps every number it ever
issued, so only an excerpt can omit one. Writes are bulk statements; all files
of one call are validated first and then applied in one transaction.
"""

import zlib
from collections import defaultdict
from collections.abc import Sequence
from dataclasses import dataclass, field
from datetime import date

from django.conf import settings
from django.db import connection, transaction
from django.db.models import Max

from kle.models import Facet, FacetCategory, Keyword, Publication, Subject, Succession
from kle.numbers import subject_number_parse
from kle.services.documents import KleDocument, kle_document_load, kle_document_parse
from kle.services.errors import KleImportError, Problem
from kle.services.records import FACET, FACET_CATEGORY, ItemRecord, RecordSet, records_build

BATCH_SIZE = 1000
# One import at a time (PostgreSQL advisory lock key; any fixed integer).
_LOCK_KEY = zlib.crc32(b"overblik.kle.import")
_SUBJECT_LEVELS = (Subject.Level.MAIN_GROUP, Subject.Level.GROUP, Subject.Level.TOPIC)


@dataclass
class LoadedFile:
    """A source read, validated and turned into records; nothing written yet."""

    document: KleDocument
    records: RecordSet


@dataclass
class ImportReport:
    """What importing one file did."""

    source: str
    kind: str
    format: str
    published_on: date
    items: int = 0
    created: int = 0
    changed: int = 0
    expired: int = 0
    moved: int = 0
    unchanged: int = 0
    absent: int = 0
    warnings: list[str] = field(default_factory=list)
    publication_id: int | None = None
    # The emneplan numbers that expired / moved with this file (file order).
    expired_numbers: list[str] = field(default_factory=list)
    moved_numbers: list[str] = field(default_factory=list)

    @property
    def changes(self) -> int:
        return self.created + self.changed + self.expired + self.moved

    def summary(self) -> str:
        """One line: kind, publication date, format, source and the counts."""
        head = (
            f"{self.kind} {self.published_on:%Y-%m-%d} "
            f"({Publication.Format(self.format).label}) from {self.source}"
        )
        absent = f", {self.absent} not in the file (kept)" if self.absent else ""
        if not self.changes:
            return f"{head}: no changes ({self.unchanged} of {self.items} items unchanged{absent})"
        return (
            f"{head}: {self.items} items — {self.created} created, {self.changed} changed, "
            f"{self.expired} expired, {self.moved} moved, {self.unchanged} unchanged{absent}"
        )


def kle_file_load(*, source: str, timeout: float | None = None) -> LoadedFile:
    """Read, validate and build the records of one source; raise KleImportError."""
    document = kle_document_load(
        source=source, timeout=settings.KLE_HTTP_TIMEOUT if timeout is None else timeout
    )
    return _loaded(document)


def kle_bytes_load(*, data: bytes, source: str) -> LoadedFile:
    """Validate and build the records of a source already read (e.g. a conditional GET)."""
    return _loaded(kle_document_parse(data=data, source=source))


def _loaded(document: KleDocument) -> LoadedFile:
    records = records_build(document=document)
    document.root = None  # the records hold everything needed: free the tree
    return LoadedFile(document=document, records=records)


def kle_import(
    *, source: str, allow_older: bool = False, timeout: float | None = None
) -> ImportReport:
    """Import one KLE file or URL (see kle_import_many)."""
    return kle_import_many(sources=[source], allow_older=allow_older, timeout=timeout)[0]


def kle_import_many(
    *, sources: Sequence[str], allow_older: bool = False, timeout: float | None = None
) -> list[ImportReport]:
    """Validate every source, then sync them all in one transaction; one report per source.

    Raises KleImportError (naming source, element, problem and line) before anything
    is written when any source is unreadable or invalid. A file published before the
    newest imported publication of its kind is refused unless ``allow_older``.
    """
    loaded = [kle_file_load(source=source, timeout=timeout) for source in sources]
    return kle_files_apply(files=loaded, allow_older=allow_older)


def kle_files_apply(
    *, files: Sequence[LoadedFile], allow_older: bool = False
) -> list[ImportReport]:
    """Sync already loaded files in one transaction, in the given order."""
    with transaction.atomic():
        if connection.vendor == "postgresql":
            with connection.cursor() as cursor:
                cursor.execute("SELECT pg_advisory_xact_lock(%s)", [_LOCK_KEY])
        return [_apply(loaded, allow_older=allow_older) for loaded in files]


def _apply(loaded: LoadedFile, *, allow_older: bool) -> ImportReport:
    document, record_set = loaded.document, loaded.records
    if not allow_older:
        newest = Publication.objects.filter(kind=document.kind).aggregate(
            newest=Max("published_on")
        )["newest"]
        if newest and document.published_on < newest:
            raise KleImportError(
                document.source,
                [
                    Problem(
                        f"published {document.published_on} is older than the newest "
                        f"imported {document.kind} ({newest}); importing it would undo "
                        "later changes (use --allow-older to import it anyway)",
                        element="UdgivelsesDato",
                    )
                ],
            )
    report = ImportReport(
        source=document.source,
        kind=document.kind,
        format=document.format,
        published_on=document.published_on,
        items=len(record_set.records),
        warnings=[*document.warnings, *record_set.warnings],
    )
    publication = Publication.objects.create(
        kind=document.kind,
        format=document.format,
        published_on=document.published_on,
        source=document.source[:500],
        sha256=document.sha256,
    )
    if document.kind == Publication.Kind.SUBJECT_PLAN:
        _SubjectSync(record_set, publication, report).run()
    else:
        _FacetSync(record_set, publication, report).run()
    publication.item_count = report.items
    publication.created_count = report.created
    publication.changed_count = report.changed
    publication.expired_count = report.expired
    publication.moved_count = report.moved
    publication.unchanged_count = report.unchanged
    publication.absent_count = report.absent
    publication.warnings = report.warnings
    publication.expired_numbers = report.expired_numbers
    publication.moved_numbers = report.moved_numbers
    publication.save()
    report.publication_id = publication.pk
    return report


def _bucket(current, values: dict) -> str:
    if current.expired_on is None and values["expired_on"] is not None:
        return "expired"
    if current.moved_on is None and values["moved_on"] is not None:
        return "moved"
    return "changed"


class _ItemSync:
    """Compare records with existing rows of one model and write the difference in bulk."""

    def __init__(self, record_set: RecordSet, publication: Publication, report: ImportReport):
        self.record_set = record_set
        self.fields = record_set.carried_fields
        self.publication = publication
        self.report = report

    def diff(
        self, model, key_field: str, records: list[ItemRecord], existing: dict, extra_changed=()
    ):
        """Return (new records, rows to update); count every record into one bucket."""
        new, updated = [], []
        for record in records:
            current = existing.get(record.key)
            if current is None:
                new.append(record)
                self.report.created += 1
                continue
            values = record.fields
            differs = [name for name in self.fields if getattr(current, name) != values[name]]
            if not differs and record.key not in extra_changed:
                self.report.unchanged += 1
                continue
            bucket = _bucket(current, values)
            setattr(self.report, bucket, getattr(self.report, bucket) + 1)
            if model is Subject and bucket in ("expired", "moved"):
                getattr(self.report, f"{bucket}_numbers").append(record.key)
            for name in differs:
                setattr(current, name, values[name])
            current.changed_in = self.publication
            updated.append(current)
        return new, updated

    def build(self, model, record: ItemRecord, **extra):
        values = {name: record.fields[name] for name in self.fields}
        return model(**values, **extra, created_in=self.publication, changed_in=self.publication)

    def update(self, model, rows: list) -> None:
        if rows:
            model.objects.bulk_update(rows, [*self.fields, "changed_in"], batch_size=BATCH_SIZE)


class _SubjectSync(_ItemSync):
    def run(self) -> None:
        records = self.record_set.records
        existing = {subject.number: subject for subject in Subject.objects.all()}
        in_file = {record.key for record in records}
        self.report.absent = sum(1 for number in existing if number not in in_file)

        keywords_changed: set[str] = set()
        existing_keywords: dict[int, list[tuple[str, str, str]]] = defaultdict(list)
        if any(record.keywords is not None for record in records):
            for subject_id, order, text, facet_code in Keyword.objects.values_list(
                "subject_id", "order", "text", "facet_code"
            ):
                existing_keywords[subject_id].append((order, text, facet_code))
            for record in records:
                current = existing.get(record.key)
                if (
                    current is not None
                    and record.keywords is not None
                    and sorted(existing_keywords.get(current.pk, [])) != sorted(record.keywords)
                ):
                    keywords_changed.add(record.key)

        new, updated = self.diff(Subject, "number", records, existing, keywords_changed)
        ids = {number: subject.pk for number, subject in existing.items()}
        # Parents before children: one bulk insert per level.
        for level in _SUBJECT_LEVELS:
            rows = [
                self.build(
                    Subject,
                    record,
                    number=record.key,
                    level=level,
                    parent_id=ids[record.parent_key] if record.parent_key else None,
                )
                for record in new
                if record.level == level
            ]
            for subject in Subject.objects.bulk_create(rows, batch_size=BATCH_SIZE):
                ids[subject.number] = subject.pk
        self.update(Subject, updated)
        self.sync_keywords(records, ids, {r.key for r in new} | keywords_changed)
        self.sync_successions(records, ids)

    def sync_keywords(self, records: list[ItemRecord], ids: dict[str, int], replace: set[str]):
        """Stikord of new subjects, and of subjects whose Stikord differ, are replaced."""
        replace = {number for number in replace if number in ids}
        keyword_records = [r for r in records if r.keywords is not None and r.key in replace]
        if not keyword_records:
            return
        Keyword.objects.filter(subject_id__in=[ids[r.key] for r in keyword_records]).delete()
        Keyword.objects.bulk_create(
            [
                Keyword(subject_id=ids[record.key], order=order, text=text, facet_code=facet)
                for record in keyword_records
                for order, text, facet in record.keywords
            ],
            batch_size=BATCH_SIZE,
        )

    def sync_successions(self, records: list[ItemRecord], ids: dict[str, int]) -> None:
        """AfloestAf links for every moved subject of the file; unknown successors are warned."""
        wanted: set[tuple[int, int]] = set()
        for record in records:
            for successor in record.fields["successor_numbers"]:
                if _is_subject_number(successor) and successor in ids:
                    wanted.add((ids[record.key], ids[successor]))
                else:
                    self.report.warnings.append(
                        f"{record.key} (line {record.line}): AfloestAf names {successor}, "
                        "which is not a number in the emneplan; kept as text only"
                    )
        in_file = {ids[record.key] for record in records}
        present = {
            (predecessor, successor): pk
            for pk, predecessor, successor in Succession.objects.values_list(
                "pk", "predecessor_id", "successor_id"
            )
            if predecessor in in_file
        }
        stale = [pk for pair, pk in present.items() if pair not in wanted]
        if stale:
            Succession.objects.filter(pk__in=stale).delete()
        Succession.objects.bulk_create(
            [Succession(predecessor_id=p, successor_id=s) for p, s in wanted - present.keys()],
            batch_size=BATCH_SIZE,
        )


def _is_subject_number(number: str) -> bool:
    try:
        subject_number_parse(number=number)
    except ValueError:
        return False
    return True


class _FacetSync(_ItemSync):
    def run(self) -> None:
        records = self.record_set.records
        categories = [r for r in records if r.level == FACET_CATEGORY]
        facets = [r for r in records if r.level == FACET]
        existing_categories = {c.code: c for c in FacetCategory.objects.all()}
        existing_facets = {f.code: f for f in Facet.objects.all()}
        in_file = {r.key for r in records}
        self.report.absent = sum(
            1 for code in [*existing_categories, *existing_facets] if code not in in_file
        )

        new, updated = self.diff(FacetCategory, "code", categories, existing_categories)
        category_ids = {code: c.pk for code, c in existing_categories.items()}
        created = FacetCategory.objects.bulk_create(
            [self.build(FacetCategory, r, code=r.key) for r in new], batch_size=BATCH_SIZE
        )
        category_ids.update({c.code: c.pk for c in created})
        self.update(FacetCategory, updated)

        new, updated = self.diff(Facet, "code", facets, existing_facets)
        Facet.objects.bulk_create(
            [self.build(Facet, r, code=r.key, category_id=category_ids[r.parent_key]) for r in new],
            batch_size=BATCH_SIZE,
        )
        self.update(Facet, updated)

        known = in_file | existing_facets.keys() | existing_categories.keys()
        for record in records:
            for successor in record.fields["successor_numbers"]:
                if successor not in known:
                    self.report.warnings.append(
                        f"{record.key} (line {record.line}): AfloestAf names {successor}, "
                        "which is not a known handlingsfacet"
                    )
