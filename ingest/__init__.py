"""Ingestion: files → documents → chunks → the Qdrant index."""
