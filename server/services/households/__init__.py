"""Households: the ODK entities that submissions create and update, never overwritten (H1-H9).

- `versions`: create (H1), the fast path on the current version (H2), links,
  held chains (H5), decisions, the version rows and history (H7)
- `merge`: the three-way merge of updates on a stale base (H3, H4), conflicts
- `batch`: a push batch's household effects with grouped statements
- `derived`: the form's calculated properties recomputed after a merge (H6)
- `rebuild`: every household replayed from stored submissions (H8)
- `accept`: a submission a reviewer accepts takes its household effect then (R6)
- `review`: lists, history and conflict resolution for reviewers
- `poverty`: the standard in force on the assessment date, applied to every household written
- `search`: the folded search text behind the household lists (names, CCCD, phone)
- `lists`: what tablets read (the entity list CSV and its integrity check), closed
  and merged households (H9)
"""
