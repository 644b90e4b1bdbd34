"""The programme's figures, charts and exports.

* `periods`: the period a report covers (a year, a programme phase, any dates).
* `tables`: the one shape every report table and export sheet takes (columns, rows, links).
* `figures`: the report at commune, district, province and agency level, with drill-down.
* `charts`: the chart data of a report.
* `exports`: CSV and XLSX files (submissions per form, households, the ledger, report
  tables), streamed or made in the background (`jobs`).
"""
