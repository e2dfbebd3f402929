"""The Milvus backend (Milvus Lite or a server)."""
