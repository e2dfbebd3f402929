"""qa: questions answered from news articles, with citations."""

__version__ = "0.1.0"
