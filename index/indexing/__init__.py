"""Writing indexes: build, add/sync/remove, migrate."""
from collections.abc import Callable

# (stage, done, total): the CLI turns these into a progress bar, tests ignore them.
Progress = Callable[[str, int, int], None]
