"""The index API v1: source systems push cases, documents, grants and payments."""
