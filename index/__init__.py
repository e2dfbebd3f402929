"""Indexing: reading articles, paragraphs, embedding, and the FAISS + SQLite store."""
