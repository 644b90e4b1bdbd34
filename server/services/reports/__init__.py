"""The programme's figures, charts and exports.

* `periods`: the period a report covers (a year, a programme phase, any dates).
* `tables`: the one shape every report table and export sheet takes (columns, rows, links).
* `figures`: the report at commune, district, province and agency level, with drill-down.
* `charts`: the chart data of a report.
* `exports`: CSV and XLSX files (submissions per form, households, the ledger, report
  tables), read a page at a time within the user's scope, written through `writers` (CSV
  with BOM, a zip of CSVs, XLSX in write-only mode); `submission_tables` lays a form's
  submissions out as ODK Central's `submissions.csv.zip` (main table, one per repeat);
  `jobs` makes them in the background with progress (`run(job_id)`, one function a queue
  can call); `downloads` streams small ones straight to the browser.
"""
