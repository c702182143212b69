"""The month outline, planned before any day is written: its writer and rounds
(:mod:`.stage`: the ``plan_outline``, ``write_outline`` and ``review_outline`` nodes use
it) and its replies (:mod:`.replies`: schema and parser)."""
