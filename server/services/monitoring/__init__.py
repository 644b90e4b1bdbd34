"""Token-visit monitoring (issue 16): evidence per visit, checks, and a person's judgement.

`catalogue` names the checks and their reasons; `evidence` reads what a stored visit shows of
itself; `checks` finds what falls short; the monitoring view and the standing office's summary
read the flags. A flag never hides data or blocks a submission.
"""
