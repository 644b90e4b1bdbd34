"""Receiving: every submission into the server exactly once (sync contract R1-R8, C3).

One path for both protocols (OpenRosa and the JSON sync API): read, find the
form version, check the sender and the place, hash canonically, validate,
store once under the unique instanceID, and apply the household effect in the
same transaction; what cannot be stored is kept in the quarantine, never lost.

- `ingest`: the rules of one submission (R1-R6) and its receipt
- `store`: the guarded insert (R7), attachments, audit rows, the quarantine writes (R8)
- `batch`: a JSON push batch with grouped statements, the same receipts as item by item
- `quarantine`: what was kept, shown to reviewers and run again (R3-R5)
- `attachments`: photo files kept once per content
- `uploads`: resumable attachment uploads (C3)
"""
