"""Forms: publishing form versions and serving them to receiving and to tablets.

- `publishing`: upload (XLSForm or XForm) as a draft, publish, close; every
  version kept (R5: publishing one runs its quarantined submissions again)
- `loaded`: the parsed form model and validator of a version, kept per worker
- `delivery`: the forms, media and entity lists a user's tablet downloads
- `places`: where a submission belongs (village, commune) and whether its sender
  may send it there
"""
