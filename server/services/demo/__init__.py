"""Demo data for a laptop trial, sent through the real services.

- `seed`: a real province, two communes, villages, users, devices and the forms
- `households`: registrations and visits written as ODK Collect would write them
"""
