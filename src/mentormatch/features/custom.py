"""Writing your own feature: a worked example, ``SharedLanguage``.

A feature is a class with a ``name``, a ``neutral`` value and a ``prepare`` method; its
constructor takes keyword settings only and validates them. ``prepare`` reads the two
validated tables once into numpy arrays and returns an object with three methods that work on
*arrays of pairs* (mentee row indices ``i``, mentor row indices ``j``, same length):

- ``values(i, j)``: float64 in [0, 1], NaN where the data are missing for one of the two
  (scoring replaces NaN by ``neutral`` and flags it in ``Scores.missing``);
- ``details(i, j)``: a dict of arrays, the raw facts a report can quote;
- ``ineligible(i, j)``: a bool array of pairs the settings rule out, or None;
- optionally ``bound_model(neutral)``: a :class:`~mentormatch.features.base.BoundModel`, an
  upper bound of the value that is cheap on every pair at once (a small matrix product, a
  table over groups of mentees, a few stated pairs). Above 32M candidate pairs ``pair()``
  checks the dual prices against the bounds and scores exactly only the pairs they do not
  clear; a feature without the method is bounded by 1, which is correct but costs time.

Compute for all the pairs at once with numpy: a Python loop over pairs is far too slow at
100,000 mentees. Register the class with :func:`~mentormatch.features.register_feature`
(as a decorator) before the rules that weigh it are built, then give it a weight::

    import mentormatch as mm
    from mentormatch.features import register_feature

    @register_feature
    class SharedLanguage: ...

    mm.pair(mentors, mentees, programme={"weights": {"shared_language": 1.0, "geography": 1.0},
                                          "features": {"shared_language": {"column": "languages"}}})

Importing this module registers ``SharedLanguage`` under ``"shared_language"``; it is not
imported by ``mentormatch`` itself, so it is not part of the default programme.

How the example vectorises a set intersection: each person's languages become bits of an
integer (one 64-bit word per 64 distinct languages); two people share a language when the
bitwise AND of their words is not zero, computed for every pair in one numpy operation per word.
"""
from __future__ import annotations

import numpy as np
import pandas as pd

from . import register_feature
from .base import Context, setting_error, text_column


def language_bits(column: np.ndarray, vocabulary: pd.Index) -> np.ndarray:
    """Bitmask words, shape (n, ceil(len(vocabulary) / 64)) uint64, of ';'-separated lists.

    Examples
    --------
    >>> vocab = pd.Index(["de", "en", "fr"])
    >>> language_bits(np.array(["en;fr", "", "de"], dtype=object), vocab)[:, 0].tolist()
    [6, 0, 1]
    """
    n_words = max(1, -(-len(vocabulary) // 64))
    words = np.zeros((len(column), n_words), dtype=np.uint64)
    lists = pd.Series(column, dtype=object).map(_split)
    flat = lists.explode().dropna()
    if len(flat):
        row = flat.index.to_numpy(dtype=np.int64)
        code = vocabulary.get_indexer(flat.to_numpy(dtype=object))
        keep = code >= 0
        row, code = row[keep], code[keep]
        bit = np.left_shift(np.uint64(1), (code % 64).astype(np.uint64))
        np.bitwise_or.at(words, (row, code // 64), bit)
    return words


def _split(text: str) -> list[str]:
    return [part.strip().casefold() for part in str(text).split(";") if part.strip()]


class _SharedLanguagePrepared:
    def __init__(self, feature: "SharedLanguage", mentees: pd.DataFrame, mentors: pd.DataFrame):
        self.feature = feature
        e_text = text_column(mentees, feature.column)
        m_text = text_column(mentors, feature.column)
        every = pd.Series(np.concatenate([e_text, m_text]), dtype=object).map(_split).explode().dropna()
        self.vocabulary = pd.Index(sorted(set(every)))
        self.mentee_bits = language_bits(e_text, self.vocabulary)
        self.mentor_bits = language_bits(m_text, self.vocabulary)
        self.mentee_known = self.mentee_bits.any(axis=1)
        self.mentor_known = self.mentor_bits.any(axis=1)

    def _shared(self, i: np.ndarray, j: np.ndarray) -> np.ndarray:
        shared = np.zeros(len(i), dtype=bool)
        for w in range(self.mentee_bits.shape[1]):  # one word per 64 languages
            shared |= (self.mentee_bits[i, w] & self.mentor_bits[j, w]) != 0
        return shared

    def values(self, mentee: np.ndarray, mentor: np.ndarray) -> np.ndarray:
        known = self.mentee_known[mentee] & self.mentor_known[mentor]
        return np.where(known, self._shared(mentee, mentor).astype(np.float64), np.nan)

    def details(self, mentee: np.ndarray, mentor: np.ndarray) -> dict[str, np.ndarray]:
        return {"shared_language": self._shared(mentee, mentor)}

    def ineligible(self, mentee: np.ndarray, mentor: np.ndarray) -> np.ndarray | None:
        if not self.feature.required:
            return None
        known = self.mentee_known[mentee] & self.mentor_known[mentor]
        return known & ~self._shared(mentee, mentor)


@register_feature
class SharedLanguage:
    """1 when mentee and mentor share a language, 0 when they do not.

    Parameters
    ----------
    column : str
        Column of both tables with ';'-separated languages (compared without case); default
        ``"languages"``.
    required : bool
        With True, pairs known to share no language are ineligible (rule
        ``"shared_language.ineligible"``); default False.

    Notes
    -----
    NaN (neutral 0.5) when either person lists no language. Details: ``shared_language``.

    Examples
    --------
    >>> e = pd.DataFrame({"id": ["E1", "E2"], "languages": ["English; French", None]})
    >>> m = pd.DataFrame({"id": ["M1"], "languages": ["french"]})
    >>> p = SharedLanguage().prepare(e, m, Context())
    >>> p.values(np.array([0, 1]), np.array([0, 0])).tolist()
    [1.0, nan]
    """

    name = "shared_language"
    neutral = 0.5

    def __init__(self, *, column: str = "languages", required: bool = False):
        if not isinstance(column, str) or not column:
            raise setting_error(self.name, "column", column, "a column name (text)")
        if not isinstance(required, bool):
            raise setting_error(self.name, "required", required, "true or false")
        self.column = column
        self.required = required

    def prepare(self, mentees: pd.DataFrame, mentors: pd.DataFrame, context: Context) -> _SharedLanguagePrepared:
        return _SharedLanguagePrepared(self, mentees, mentors)
