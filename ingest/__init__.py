"""PDF ingestion: files -> documents, blocks and passages.

The pipeline calls :func:`read_document` and :func:`ingest.metadata.resolve`.
"""
from systemfel.ingest.errors import IngestError
from systemfel.ingest.reader import DocumentReader, ParsedDocument, read_document

__all__ = ["DocumentReader", "IngestError", "ParsedDocument", "read_document"]
