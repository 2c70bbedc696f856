"""The documents a case collects: letters in and out, notes, plans, decisions.

Shared by the case-bearing systems (FASIT, SBSYS); each renders them in its own
vocabulary. Titles follow the title rules (seed 002) unless the bad-title
fault strikes.
"""

import datetime
from dataclasses import dataclass

from simulators import danish
from simulators.world import Engagement

INCOMING = "Brev, indgaaende"
OUTGOING = "Brev, udgaaende"
INTERNAL = "Internt Notat"
PLAN = "Plan"


@dataclass(frozen=True)
class Letter:
    suffix: str
    title: str
    type: str
    role: str  # Tilakteret, Vedlagt, Journalnotat
    # (moment, SF1470 document status) per version; drafts become final later.
    versions: tuple[tuple[datetime.datetime, str], ...]

    @property
    def letter_date(self) -> datetime.date:
        return self.versions[0][0].date()


def _outgoing(suffix: str, title: str, moment: datetime.datetime) -> Letter:
    return Letter(
        suffix,
        title,
        OUTGOING,
        "Tilakteret",
        ((moment, "Underudarbejdelse"), (moment + datetime.timedelta(hours=2), "Endeligt")),
    )


def letters_for(engagement: Engagement) -> list[Letter]:
    """The documents of a case, from its kind's script and its timeline."""
    kind = engagement.kind
    subject = kind.subject
    minutes = datetime.timedelta(minutes=5)
    day = datetime.timedelta(days=1)
    opened, informed, decided, closed = (
        engagement.opened,
        engagement.informed,
        engagement.decided,
        engagement.closed,
    )
    result: list[Letter] = []
    for step in kind.documents:
        if step == "application":
            result.append(
                Letter(
                    "A",
                    f"Ansøgning om {subject}",
                    INCOMING,
                    "Tilakteret",
                    ((opened + minutes, "Modtaget"),),
                )
            )
        elif step == "employer_report":
            result.append(
                Letter(
                    "A",
                    "Anmeldelse af sygefravær fra arbejdsgiver",
                    INCOMING,
                    "Tilakteret",
                    ((opened + minutes, "Modtaget"),),
                )
            )
        elif step == "receipt":
            result.append(
                _outgoing("K", f"Kvittering for modtaget ansøgning om {subject}", opened + 2 * day)
            )
        elif step == "summons":
            moment = opened + 3 * day
            title = f"Indkaldelse til samtale om {subject} i {danish.month_year(moment + 7 * day)}"
            result.append(_outgoing("I", title, moment))
        elif step == "journal_note" and informed:
            result.append(
                Letter(
                    "J",
                    f"Referat af samtale om {subject}",
                    INTERNAL,
                    "Journalnotat",
                    ((informed - datetime.timedelta(hours=1), "Endeligt"),),
                )
            )
        elif step == "doctor" and informed:
            result.append(
                Letter(
                    "L",
                    "Svar med lægeattest fra egen læge",
                    INCOMING,
                    "Tilakteret",
                    ((informed - datetime.timedelta(hours=2), "Modtaget"),),
                )
            )
        elif step == "plan" and informed:
            result.append(
                Letter(
                    "P",
                    f"Plan for {subject}",
                    PLAN,
                    "Tilakteret",
                    ((informed + 2 * day, "Endeligt"),),
                )
            )
        elif step == "internal_note" and informed:
            result.append(
                Letter(
                    "N",
                    f"Vurdering af sagen om {subject}",
                    INTERNAL,
                    "Tilakteret",
                    ((informed + day, "Endeligt"),),
                )
            )
        elif step == "decision" and decided:
            moment = decided + datetime.timedelta(minutes=30)
            if engagement.granted:
                title = f"Bevilling af {subject} fra {danish.month_year(decided)}"
            else:
                title = f"Afslag på ansøgning om {subject}"
            result.append(_outgoing("D", title, moment))
    if kind.documents and engagement.granted and closed and kind.duration:
        result.append(
            _outgoing(
                "O", f"Orientering om ophør af {subject}", closed - datetime.timedelta(hours=1)
            )
        )
    return result
