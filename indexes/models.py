"""Models of indexes."""
