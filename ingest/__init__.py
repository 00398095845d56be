"""Everything below answering, in layers that only import downward:

* foundation: ``settings`` (the one settings object), ``errors``, ``models``, and ``text`` (pure
  helpers over Vietnamese official text: normalisation, sentences, units, labels, word lists);
* parsing: ``loaders``, ``ocr``, ``split``, ``metadata``, ``chunking``, ``sparse``, ``embeddings``;
* the index: ``store`` (embedded Qdrant Edge or a server), ``schema`` (every point's payload,
  written and read in one place), ``index`` (lock, manifest, file names, typed reads and search);
* the register (``register``): obligations, targets and relations extracted from documents;
* the ingest run: ``pipeline`` (files → points, incrementally) and ``rebuild``.
"""
