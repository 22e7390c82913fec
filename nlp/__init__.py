"""Reading Swedish: lemmas, actors, passage kinds, levels, personal data and reported figures.

Entry points: `nlp.reader.PassageReader` (label a document's passages, extract its figures),
`nlp.pii.PiiDetector` (mask personal data), `nlp.evaluate` (figures against a gold file;
`python -m nlp.evaluate --pdf corpus`). Word lists live in nlp/data/*.yaml.
"""
