"""Reading time against file size on adversarial inputs: every reader must be linear.

    python benchmarks/read_linear.py [--mb 1.0] [--shape NAME] [--repeat 3]

For each format and shape, a file of about `--mb` megabytes and one of 1/8 that size are
read (best of three, CPU seconds of this process, so a busy machine does not skew them); the
figures are seconds per MB at the full size and the ratio of the full-size time to eight
times the small one (about 1 when linear, about 8 when quadratic).
The shapes are the ones that made reading quadratic before (issue 13) and their cousins;
tests/test_read_adversarial.py runs the same shapes with a generous bound.
"""
from __future__ import annotations

import argparse
import json
import sys
import tempfile
import time
from collections.abc import Callable
from pathlib import Path

sys.path.insert(0, str(Path(__file__).resolve().parents[1]))

ENTITY_PARAGRAPH = ("<p>Caf&eacute; na&iuml;ve r&eacute;sum&eacute; &amp; d&eacute;j&agrave; vu "
                    "di Jakarta, kata Menteri {i} kepada wartawan pada hari Senin.</p>\n")


def _repeat(unit: str, size: int) -> str:
    return unit * max(1, size // len(unit))


def _html_page(body: str) -> str:
    return f"<html><head><title>Judul berita</title></head><body><article>\n{body}\n</article></body></html>\n"


def _jsonl(texts: list[str]) -> str:
    return "".join(json.dumps({"id": f"a{i}", "title": "Judul", "text": t}) + "\n"
                   for i, t in enumerate(texts))


# name -> (file suffix, size in characters -> file text)
SHAPES: dict[str, tuple[str, Callable[[int], str]]] = {
    "txt-benign": (".txt", lambda n: "Judul\n\n" + _repeat("Presiden berkata bahwa hal itu penting. ", n)),
    "txt-editor-spaces": (".txt", lambda n: "Judul\n\nEditor: x" + " " * n + "y\n"),
    "txt-label-spaces": (".txt", lambda n: "Judul\n\n" + _repeat("Foto:" + " " * 200 + "x\n", n)),
    "txt-baca-spaces": (".txt", lambda n: "Judul\n\nBaca juga" + " " * n + ":\n"),
    "txt-one-line": (".txt", lambda n: "Judul\n" + _repeat("kata ", n)),
    "txt-short-lines": (".txt", lambda n: "Judul\n" + "".join(f"a{i}\n" for i in range(n // 6))),
    "txt-parens": (".txt", lambda n: "Judul\n\n" + _repeat("(a/", n) + "\n"),
    "md-benign": (".md", lambda n: "# Judul\n\n" + _repeat("Presiden berkata bahwa hal itu *penting*. ", n)),
    "md-star": (".md", lambda n: "# Judul\n\n" + _repeat("*a ", n) + "\n"),
    "md-strong": (".md", lambda n: "# Judul\n\n" + _repeat("**a ", n) + "\n"),
    "md-under": (".md", lambda n: "# Judul\n\n" + _repeat("_a ", n) + "\n"),
    "md-strike": (".md", lambda n: "# Judul\n\n" + _repeat("~~a ", n) + "\n"),
    "md-backticks": (".md", lambda n: "# Judul\n\n" + _repeat("``a `", n) + "\n"),
    "md-brackets": (".md", lambda n: "# Judul\n\n" + _repeat("[a", n) + "\n"),
    "md-links": (".md", lambda n: "# Judul\n\n" + _repeat("[a](", n) + "\n"),
    "md-images": (".md", lambda n: "# Judul\n\n" + _repeat("![a](b ", n) + "\n"),
    "md-tags": (".md", lambda n: "# Judul\n\n" + _repeat("<a ", n) + "\n"),
    "md-autolinks": (".md", lambda n: "# Judul\n\n" + _repeat("<http:", n) + "\n"),
    "md-heading-spaces": (".md", lambda n: "# Judul" + " " * n + "x\n\nTeks berita ini.\n"),
    "md-table-spaces": (".md", lambda n: "# Judul\n\n|a|\n" + " " * n + "x\n"),
    "md-lines": (".md", lambda n: "# Judul\n\n" + _repeat("a\n", n)),
    "html-benign": (".html", lambda n: _html_page(_repeat(
        "<p>Presiden berkata bahwa hal itu penting bagi semua warga negara di sana.</p>\n", n))),
    "html-entities": (".html", lambda n: _html_page("".join(
        ENTITY_PARAGRAPH.format(i=i) for i in range(max(1, n // len(ENTITY_PARAGRAPH)))))),
    "html-lt": (".html", lambda n: _html_page("<p>Presiden berkata bahwa hal itu penting sekali.</p>\n"
                                              + _repeat("&lt; < ", n))),
    "jsonl-benign": (".jsonl", lambda n: _jsonl(["Presiden berkata bahwa hal itu penting. " * 20]
                                                * max(1, n // 900))),
    "jsonl-editor-spaces": (".jsonl", lambda n: _jsonl(["Editor: x" + " " * n + "y\nTeks berita."])),
    "jsonl-star-lines": (".jsonl", lambda n: _jsonl(["(a/" * (n // 3)])),
    "jsonl-many-junk": (".jsonl", lambda n: _jsonl(["(ant/rah)\nFoto: ANTARA\nIni kalimat yang benar."]
                                                   * max(1, n // 120))),
}


def read_seconds(path: Path, repeat: int = 3) -> float:
    from index.corpus.read import read_file

    best = float("inf")
    for _ in range(repeat):
        start = time.process_time()  # CPU time: other processes on the machine do not count
        read_file(path)
        best = min(best, time.process_time() - start)
    return best


def measure(name: str, size: int, folder: Path, repeat: int = 3) -> tuple[float, float]:
    """(seconds at `size` characters, seconds at size/8)."""
    suffix, make = SHAPES[name]
    times = {}
    for n in (size // 8, size):  # the small one first: it also warms caches and lazy imports
        path = folder / f"{name}-{n}{suffix}"
        path.write_text(make(n), encoding="utf-8")
        times[n] = read_seconds(path, repeat)
    return times[size], times[size // 8]


def main(argv: list[str] | None = None) -> int:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--mb", type=float, default=1.0)
    parser.add_argument("--shape", action="append", default=None)
    parser.add_argument("--repeat", type=int, default=3, help="best of this many reads")
    args = parser.parse_args(argv)
    size = int(args.mb * 1024 * 1024)
    print(f"{'shape':24} {'s/MB':>8} {'ratio':>6}   (ratio: time at full size / 8 x time at 1/8)")
    with tempfile.TemporaryDirectory() as tmp:
        for name in args.shape or SHAPES:
            big, small = measure(name, size, Path(tmp), args.repeat)
            print(f"{name:24} {big / args.mb:8.3f} {big / max(8 * small, 1e-9):6.2f}", flush=True)
    return 0


if __name__ == "__main__":
    raise SystemExit(main())
