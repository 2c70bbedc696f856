"""Writes and workflows of the indexes; see each module."""
