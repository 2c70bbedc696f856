"""KLE services: importing and syncing the taxonomy (writes)."""
