"""Duplicate households, the pure part: Vietnamese name and ID normalisation, blocking keys and
the pair score (sync contract D1-D2; facts in `domain.md`, "Names" and "Personal ID").

Imports neither Flask nor SQLAlchemy (only the standard library and rapidfuzz; a unit test
checks the imports), so the benchmark and any offline tool can use it without the server.
`server.services.duplicates.detection` stores what these functions compute.

- `names`: text as typed -> matching forms (NFC, one tone placement, accents folded,
  regional spellings, name parts);
- `keys`: CCCD and phone normalisation, GPS cells, and the blocking keys of a household;
- `score`: the weighted comparison of two households, with its breakdown and threshold.
"""
