"""Embed, search and group passages: vectors (embed/, vectors.py), hybrid search (search.py),
codebook themes (themes.py), discovered clusters (clusters.py), recurrence and trends
(trends.py), and the figures against the gold (evaluate.py)."""
