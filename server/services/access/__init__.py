"""Access: who may do what, where.

- `auth`: passwords (argon2) and device tokens
- `scope`: which units, forms, submissions and households a user may read and
  write (P1's scope for tablets, every list's bound for reviewers)
- `signin`: the site's password sign-in and its lock-out
- `users`: creating and finding users
"""
