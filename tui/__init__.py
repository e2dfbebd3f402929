"""The Textual chat app (`qa chat`)."""
