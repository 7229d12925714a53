"""One section of BENCHMARKS.md, between its two markers, written by one benchmark script."""
from __future__ import annotations

from pathlib import Path


def replace_section(path, begin: str, end: str, body: list[str]) -> None:
    """Put ``begin``, the ``body`` lines and ``end`` in place of the file's section between
    those markers, or append them when the file has no such section yet."""
    text = Path(path).read_text() if Path(path).exists() else ""
    block = "\n".join([begin, *body, end])
    if begin in text and end in text:
        text = text[:text.index(begin)] + block + text[text.index(end) + len(end):]
    else:
        text = text.rstrip("\n") + "\n\n" + block + "\n"
    Path(path).write_text(text)


def other_sections(path) -> list[str]:
    """The marked sections other scripts wrote into the file (``<!-- name: begin -->`` to
    ``<!-- name: end -->``), in file order: what a script that rewrites the whole file keeps."""
    import re

    text = Path(path).read_text() if Path(path).exists() else ""
    return [m.group(0) for m in re.finditer(r"<!-- (\w+): begin -->.*?<!-- \1: end -->", text, re.S)]
