"""Danish content for the simulators: names, places, units, and case/document titles.

Our own small lists (not Faker) so a seed gives the same population on every
Faker version. Good titles follow the rules Fredensborg and Odense teach
(seed 002): a lead word first ("Afslag", "Bevilling", "Beslutning" …), one
line, no abbreviations, no punctuation except "?".
"""

# fmt: off
FIRST_NAMES_FEMALE = (
    "Anne", "Kirsten", "Mette", "Hanne", "Helle", "Susanne", "Lene", "Maria", "Marianne",
    "Lone", "Camilla", "Pia", "Louise", "Charlotte", "Tina", "Gitte", "Bente", "Inge",
    "Karen", "Birgit", "Ida", "Emma", "Sofie", "Freja", "Julie", "Laura", "Cecilie",
    "Maja", "Signe", "Aisha", "Fatima", "Zainab", "Agnete", "Ellen", "Grethe", "Else",
)
FIRST_NAMES_MALE = (
    "Peter", "Jens", "Lars", "Michael", "Henrik", "Thomas", "Søren", "Jan", "Niels",
    "Christian", "Martin", "Anders", "Morten", "Jesper", "Mads", "Rasmus", "Per", "Ole",
    "Hans", "Erik", "Kim", "Jørgen", "Poul", "Frederik", "Mikkel", "Oliver", "William",
    "Lucas", "Emil", "Magnus", "Ahmed", "Mohammad", "Ali", "Bent", "Knud", "Svend",
)
LAST_NAMES = (
    "Nielsen", "Jensen", "Hansen", "Pedersen", "Andersen", "Christensen", "Larsen",
    "Sørensen", "Rasmussen", "Jørgensen", "Petersen", "Madsen", "Kristensen", "Olsen",
    "Thomsen", "Christiansen", "Poulsen", "Johansen", "Møller", "Mortensen", "Knudsen",
    "Jakobsen", "Mikkelsen", "Frederiksen", "Lauridsen", "Holm", "Østergaard", "Bach",
    "Kjær", "Dahl", "Lund", "Vestergaard", "Ahmadi", "Hussein", "Yilmaz", "Nguyen",
)
STREETS = (
    "Vestergade", "Østergade", "Nørregade", "Søndergade", "Kirkevej", "Skolevej",
    "Møllevej", "Stationsvej", "Bakkevej", "Engvej", "Skovvej", "Strandvejen",
    "Birkevej", "Egevej", "Lindevej", "Ahornvej", "Rosenvænget", "Kastanievej",
    "Havnegade", "Torvegade", "Nyvej", "Markvej", "Violvej", "Tulipanvej",
)
# Post towns per municipality (postnummer, by); others fall back to the municipality's name.
POST_TOWNS: dict[str, tuple[tuple[str, str], ...]] = {
    "461": (
        ("5000", "Odense C"), ("5200", "Odense V"), ("5210", "Odense NV"),
        ("5220", "Odense SØ"), ("5230", "Odense M"), ("5240", "Odense NØ"),
        ("5250", "Odense SV"), ("5260", "Odense S"), ("5270", "Odense N"),
    ),
    "706": (
        ("8400", "Ebeltoft"), ("8410", "Rønde"), ("8420", "Knebel"), ("8544", "Mørke"),
        ("8550", "Ryomgård"), ("8560", "Kolind"), ("8570", "Trustrup"),
    ),
    "210": (
        ("3480", "Fredensborg"), ("3050", "Humlebæk"), ("2990", "Nivå"), ("2980", "Kokkedal"),
    ),
}
CASEWORKERS = (
    "Lene Holm", "Bo Kjeldsen", "Trine Lyng", "Ulla Bang", "Kasper Friis", "Nanna Wind",
    "Rikke Bjerre", "Jonas Krogh", "Dorthe Munk", "Sara Lind", "Anja Brix", "Torben Hald",
)

# Lead words a good title may start with (seed 002: "Indled fx (Sådan, Afslag, Beslutning)").
LEAD_WORDS = (
    "Afgørelse", "Afslag", "Aftale", "Anmeldelse", "Anmodning", "Ansøgning", "Beslutning",
    "Bevilling", "Genoptagelse", "Indkaldelse", "Klage", "Kvittering", "Opfølgning",
    "Ophør", "Orientering", "Partshøring", "Plan", "Referat", "Svar", "Sådan", "Tilbud",
    "Visitation", "Vurdering",
)

# Titles that break the rules, by the rule they break (see faults.py and docs/sources.md).
BAD_TITLES: dict[str, tuple[str, ...]] = {
    "no_lead_word": ("Kontanthjælp", "Sygedagpenge 2021", "Diverse", "Sagen", "Brev"),
    "abbreviation": (
        "Ansøgning vedr kontanthjælp", "Opfølgning ifm sygemelding",
        "Bevilling af hjælpemidler mv", "Afslag pga manglende oplysninger",
        "Henvendelse ang fleksjob",
    ),
    "punctuation": (
        "Afslag: kontanthjælp!", "Bevilling (ny) af hjælp", "Opfølgning; 2. samtale",
        "Beslutning, se notat", "Ansøgning om hjælp...",
    ),
    "multiline": ("Afslag\npå ansøgning om hjælp", "Bevilling\naf rollator"),
    "all_caps": ("BREV TIL BORGER", "AFSLAG PÅ ANSØGNING"),
    "number_only": ("2021-0142", "12345"),  # the journal number as the title
}

# fmt: on

MONTHS = (
    "januar",
    "februar",
    "marts",
    "april",
    "maj",
    "juni",
    "juli",
    "august",
    "september",
    "oktober",
    "november",
    "december",
)


def month_year(when) -> str:
    """``marts 2021`` — dates in titles without punctuation."""
    return f"{MONTHS[when.month - 1]} {when.year}"
