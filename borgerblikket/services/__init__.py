"""Writes of borgerblikket: the sheets (``sheets``) and their import/export (``sheet_io``)."""
