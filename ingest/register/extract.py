"""Everything the register reads from one file's documents, in one call for the ingest run's
parse step: obligations, targets and (unresolved) references.

``REGISTER_VERSION`` is part of the ingest fingerprint: bumping it when extraction changes makes
the next run redo every file.
"""

from __future__ import annotations

import logging

from ingest.models import Chunk, Document
from ingest.register.models import Register
from ingest.register.obligations import extract_obligations
from ingest.register.relations import extract_references
from ingest.register.targets import extract_targets

log = logging.getLogger(__name__)

REGISTER_VERSION = 4
"""Bump when extraction or the items' points change (4: items carry their ``terms``): it is part
of the ingest fingerprint, so every file is redone."""


def extract_register(documents: list[Document], chunks: list[Chunk]) -> Register:
    """The register items of one file's ``documents`` (``chunks`` give their section paths),
    in document order and, within a document, in text order.

    Relations are left unresolved: the documents they point to may be in other files. A
    document the extractors fail on loses its register entries, not its place in the index.
    """
    register = Register()
    for doc in documents:
        try:
            obligations = extract_obligations(doc, chunks)
            targets = extract_targets(doc, chunks)
            relations = extract_references(doc, chunks)
        except Exception:  # an extractor bug must not keep a file out of the index
            log.exception("register extraction failed for %s", doc.doc_id)
            continue
        register.obligations += obligations
        register.targets += targets
        register.relations += relations
    return register
