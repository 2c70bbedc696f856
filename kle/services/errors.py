"""Errors raised by the KLE import: each names the source, the element, the problem and the line."""

from dataclasses import dataclass

# An error message lists this many problems and counts the rest.
MAX_LISTED_PROBLEMS = 10


@dataclass(frozen=True)
class Problem:
    """One thing wrong with a KLE file."""

    message: str
    element: str | None = None  # e.g. "EmneNr"
    line: int | None = None

    def __str__(self) -> str:
        where = [f"line {self.line}"] if self.line else []
        if self.element:
            where.append(f"<{self.element}>")
        return f"{' '.join(where)}: {self.message}" if where else self.message


class KleImportError(Exception):
    """The source could not be imported; nothing was written."""

    def __init__(self, source: str, problems: list[Problem]):
        self.source = source
        self.problems = problems
        super().__init__(str(self))

    def __str__(self) -> str:
        listed = "; ".join(str(p) for p in self.problems[:MAX_LISTED_PROBLEMS])
        more = len(self.problems) - MAX_LISTED_PROBLEMS
        suffix = f"; … and {more} more problem(s)" if more > 0 else ""
        return f"{self.source}: {listed}{suffix}"


class KleSourceUnavailable(KleImportError):
    """The source could not be read at all (missing file, network error, HTTP error)."""
