"""The local backend: SQLite rows and text search beside a FAISS vector file."""
