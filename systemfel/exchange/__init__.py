"""Exchange with other tools: REFI-QDA projects (.qdpx) for NVivo, ATLAS.ti, MAXQDA, QualCoder."""
