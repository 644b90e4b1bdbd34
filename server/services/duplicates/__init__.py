"""Duplicate households: detection at ingest and the reviewers' cases (D1-D4).

- `detection`: the hooks the household service calls inside the ingest
  transaction: exact keys (D1), the keys index and fuzzy candidates (D2, scored by
  the pure `server.dedup`), repeated submissions (D4)
- `cases`: the cases reviewers decide: merge, distinct, undo (D3)
"""
