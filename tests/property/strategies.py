"""Inputs for the property tests: the real captured files mutated, and text with no structure at all.

A mutation is what a hostile or broken host (or a hand-edited file) does to a file the kernel printed:
a line cut, a number changed (to 0, negative, huge, with 5,000 digits), a column added or dropped, a line
repeated, stray bytes inserted, the text cut short. :func:`mutated` applies a few of them to one real file,
so most examples stay close enough to the real layout to reach the parser's deep branches.
"""

from __future__ import annotations

import re
from collections.abc import Sequence
from pathlib import Path

from hypothesis import strategies as st

DATA = Path(__file__).parents[1] / "data"
CORPUS = DATA / "corpus"
_NUMBER = re.compile(r"\d+")

#: Numbers a parser must bound: zero, negatives, the edges of 32 and 64 bits, far beyond, floats.
WEIRD_NUMBERS = (
    "0",
    "-1",
    "-0",
    "4294967296",
    "18446744073709551616",
    "1099511627776",
    "99999999999999",
    "1e30",
    "1.0e+308",
    "nan",
    "inf",
    "0x10",
    "9" * 400,
    "9" * 5000,
)

#: Characters with meaning to a parser or a terminal: separators, quotes, NUL, escapes, line breaks
#: other than ``\\n``, a BOM, and a surrogate-free astral character.
WEIRD_CHARS = "\x00\t\r\x0b\x0c\x1b\x85\u2028\ufeff:=,;#'\"\\ []{}()|*?!@%$&<>-_+/.😀"


def corpus_texts(kind: str) -> list[str]:
    """Every corpus file of ``kind`` (a directory of tests/data/corpus/), as text."""
    files = sorted((CORPUS / kind).glob("*.txt"))
    assert files, f"no corpus files of kind {kind!r}"
    return [file.read_text() for file in files]


def random_text(max_size: int = 400) -> st.SearchStrategy[str]:
    """Any text: mostly printable with the weird characters mixed in, sometimes any code point."""
    return st.one_of(
        st.text(st.sampled_from(WEIRD_CHARS) | st.characters(codec="utf-8"), max_size=max_size),
        st.text(alphabet="0123456789 \n:=-kBNodezone", max_size=max_size),
        st.lists(st.sampled_from(WEIRD_NUMBERS), max_size=20).map(" ".join),
    )


@st.composite
def _mutation(draw: st.DrawFn, text: str) -> str:
    lines = text.split("\n")
    where = draw(st.integers(0, max(len(lines) - 1, 0)))
    kind = draw(
        st.sampled_from(("cut-line", "repeat-line", "number", "add-column", "drop-field", "insert", "truncate"))
    )
    if kind == "cut-line":
        del lines[where]
    elif kind == "repeat-line":
        lines[where:where] = [lines[where]] * draw(st.integers(1, 3))
    elif kind == "number":
        numbers = list(_NUMBER.finditer(lines[where]))
        if numbers:
            found = draw(st.sampled_from(numbers))
            new = draw(st.sampled_from(WEIRD_NUMBERS) | st.integers(-(2**70), 2**70).map(str))
            lines[where] = lines[where][: found.start()] + new + lines[where][found.end() :]
    elif kind == "add-column":
        column = draw(st.sampled_from(WEIRD_NUMBERS) | st.text(min_size=1, max_size=8))
        lines[where] = lines[where] + draw(st.sampled_from((" ", "\t", ""))) + column
    elif kind == "drop-field":
        fields = lines[where].split()
        if fields:
            del fields[draw(st.integers(0, len(fields) - 1))]
            lines[where] = " ".join(fields)
    elif kind == "insert":
        position = draw(st.integers(0, len(lines[where])))
        junk = draw(st.text(st.sampled_from(WEIRD_CHARS) | st.characters(codec="utf-8"), min_size=1, max_size=6))
        lines[where] = lines[where][:position] + junk + lines[where][position:]
    else:
        joined = "\n".join(lines)
        return joined[: draw(st.integers(0, len(joined)))]
    return "\n".join(lines)


@st.composite
def mutated(draw: st.DrawFn, texts: Sequence[str], max_mutations: int = 4) -> str:
    """One of ``texts`` with 0 to ``max_mutations`` mutations applied in turn."""
    text = draw(st.sampled_from(texts))
    for _ in range(draw(st.integers(0, max_mutations))):
        text = draw(_mutation(text))
    return text


def texts_like(texts: Sequence[str], max_size: int = 400) -> st.SearchStrategy[str]:
    """Mostly mutated real files, sometimes text with no structure at all."""
    return st.one_of(mutated(texts), mutated(texts), random_text(max_size))
