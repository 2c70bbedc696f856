"""Models of borgerblikket."""
