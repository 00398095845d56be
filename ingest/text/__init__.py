"""Text helpers every layer shares: Vietnamese normalisation, sentence spans of official text,
who a sentence addresses (units), and how documents, dates and passages are labelled.

Pure functions over strings and the document models; nothing here reads the index or settings.
"""
