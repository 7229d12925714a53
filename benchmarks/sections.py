"""Sections of BENCHMARKS.md, each between its two markers, written by one benchmark script: a
script rewrites its own sections and leaves the others' as they are."""
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


def markers(name: str) -> tuple[str, str]:
    """The begin and end markers of the section ``name``."""
    return f"<!-- {name}: begin -->", f"<!-- {name}: end -->"


def write_blocks(path, head: list[str], order: list[str], blocks: dict[str, list[str]],
                 before: dict[str, list[str]] | None = None) -> None:
    """Write one script's part of the file as marked blocks.

    With every block of ``order`` in ``blocks`` (a whole run) the file is rewritten: ``head``,
    the blocks in ``order`` (with the lines ``before[name]``, such as a heading over several
    blocks, ahead of the block ``name``), then the sections other scripts wrote (kept as they
    are). With some
    of them (a run of some sections) only those blocks are replaced, in place: the rest of the
    file, the other blocks of the same script included, is left as it was; the file must then
    have them already (written by a whole run once), or nothing is written and this says so.
    """
    if all(name in blocks for name in order):
        own = tuple(markers(name)[0] for name in order)
        kept = [block for block in other_sections(path) if not block.startswith(own)]
        parts = ["\n".join(head)]
        for name in order:
            begin, end = markers(name)
            parts += (before or {}).get(name, [])
            parts.append("\n".join([begin, *blocks[name], end]))
        Path(path).write_text("\n".join(parts) + "".join("\n\n" + block for block in kept) + "\n")
        return
    text = Path(path).read_text() if Path(path).exists() else ""
    missing = [name for name in blocks if markers(name)[0] not in text]
    if missing:
        raise SystemExit(f"{path} has no section {', '.join(missing)}: write the whole report once "
                         "(without --sections) before refreshing some of its sections")
    for name, body in blocks.items():
        replace_section(path, *markers(name), body)
