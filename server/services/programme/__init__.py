"""The programme's structure: admin units (provinces, communes, villages).

Room for what the programme adds next: agencies and their communes, who helps
whom (cadre and household pairs), the support ledger.

- `units`: official provinces and communes from `vietnamadminunits`, villages by hand
"""
