"""A tile map of Denmark's 98 municipalities for the roll-out page (docs/borgerblikket.md).

Every municipality is one equal square placed by hand at (column, row) so that neighbours
stay roughly neighbours: Nordjylland at the top, Jylland down the left, Fyn and its islands
in the middle, Sjælland with the dense Copenhagen area on the right, Bornholm far east.
These are tiles, not borders: the map shows where a category lies, the table beside it
gives the facts (and is the accessible alternative).
"""

from dataclasses import dataclass

TILE = 40  # px, one tile's side in the SVG's user units
GAP = 3

# kommunekode: (column, row)
TILES: dict[str, tuple[int, int]] = {
    # Nordjylland
    "860": (3, 0), "813": (4, 0),
    "849": (2, 1), "810": (3, 1), "825": (5, 1),
    "787": (1, 2), "851": (3, 2),
    "773": (1, 3), "820": (2, 3), "840": (3, 3), "846": (4, 3),
    # Midtjylland
    "665": (0, 4), "671": (1, 4), "779": (2, 4), "791": (3, 4), "730": (4, 4), "707": (5, 4),
    "661": (1, 5), "657": (2, 5), "740": (3, 5), "710": (4, 5), "706": (5, 5),
    "760": (1, 6), "756": (2, 6), "746": (3, 6), "751": (4, 6), "727": (5, 6), "741": (6, 6),
    "573": (1, 7), "530": (2, 7), "630": (3, 7), "766": (4, 7), "615": (5, 7),
    # Syddanmark: Jylland
    "563": (0, 8), "561": (1, 8), "575": (2, 8), "621": (3, 8), "607": (4, 8),
    "550": (1, 9), "580": (2, 9), "510": (3, 9),
    "540": (3, 10),
    # Fyn and the islands
    "410": (5, 8), "480": (6, 8), "440": (7, 8),
    "420": (5, 9), "461": (6, 9), "450": (7, 9),
    "430": (5, 10), "479": (6, 10), "482": (7, 10),
    "492": (6, 11),
    # Sjælland: the north
    "260": (11, 5), "270": (12, 5), "217": (13, 5),
    "306": (9, 6), "250": (11, 6), "219": (12, 6), "210": (13, 6), "223": (14, 6),
    "326": (9, 7), "316": (10, 7), "240": (11, 7), "201": (12, 7), "190": (13, 7), "230": (14, 7),
    # Sjælland: the middle and the Copenhagen area
    "350": (10, 8), "265": (11, 8), "151": (12, 8), "163": (13, 8), "159": (14, 8),
    "173": (15, 8), "157": (16, 8),
    "330": (9, 9), "340": (10, 9), "329": (11, 9), "169": (12, 9), "165": (13, 9),
    "161": (14, 9), "175": (15, 9), "147": (16, 9), "101": (17, 9),
    "370": (10, 10), "259": (11, 10), "269": (12, 10), "253": (13, 10), "183": (14, 10),
    "187": (15, 10), "153": (16, 10), "167": (17, 10), "185": (18, 10),
    "390": (10, 11), "320": (11, 11), "336": (12, 11), "155": (18, 11),
    # Lolland-Falster and Bornholm
    "360": (9, 12), "376": (10, 12),
    "400": (19, 12),
}  # fmt: skip

COLUMNS = max(x for x, _y in TILES.values()) + 1
ROWS = max(y for _x, y in TILES.values()) + 1
WIDTH = COLUMNS * (TILE + GAP)
HEIGHT = ROWS * (TILE + GAP)


@dataclass(frozen=True)
class Tile:
    code: str
    x: int  # px, top left
    y: int
    text_x: int  # px, the tile's centre
    text_y: int


def map_tiles() -> list[Tile]:
    """Every municipality's tile, in code order."""
    out = []
    for code, (column, row) in sorted(TILES.items()):
        x, y = column * (TILE + GAP), row * (TILE + GAP)
        out.append(Tile(code=code, x=x, y=y, text_x=x + TILE // 2, text_y=y + TILE // 2 + 4))
    return out
