"""Models of overblik."""
