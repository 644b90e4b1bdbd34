"""Review: what commune officials decide and read on the review site.

- `decisions`: approve, mark has issues, return to the cadre, reject, correct
  (a return reaches the tablet at its next pull; an approval applies R6)
- `pages`: the dashboard, queue, households list and household page, within scope
- `exits`: poverty exits read from household versions (H7), certified or declined
"""
