"""The poverty review (rà soát): campaigns (`campaigns`), the per-year statuses and the
transitions between years (`transitions`), and the circular's lists as XLSX (`lists`)."""
