"""Replies to rows: pipe rows, markdown tables, JSON and code fences read into
``DayPlan`` rows (:mod:`.parsing`, with :mod:`.cells`, :mod:`.pipe_rows` and
:mod:`.json_rows`)."""
