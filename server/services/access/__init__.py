"""Access: who may do what, where.

- `auth`: passwords (argon2) and device tokens
- `scope`: which units, forms, submissions and households a user may read and
  write (P1's scope for tablets, every list's bound for reviewers)
- `sessions`: the review site's sign-ins, kept server-side so sign-out ends them
- `signin`: password sign-in and the lock-out shared by every way of signing in
- `users`: who may manage whom (`require_manage`), creating, editing, deactivating,
  password resets, spreadsheet imports, scoped listings
- `devices`: enrolling ODK Collect by QR code (Collect's settings format), listing, revoking
"""
