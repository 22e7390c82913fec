"""The ground floor: records, text normalisation, hashing, JSON lines, YAML errors.

Nothing here imports another part of systemfel; everything else may import from here.
"""
