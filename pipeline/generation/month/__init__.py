"""The month graph: its nodes (:mod:`.engine`), their wiring (:mod:`.graph`), what the
prompts are grounded in (:mod:`.grounding`: the ``retrieve`` and ``fit`` nodes), when a
run ends (:mod:`.rounds`) and durable runs (:mod:`.runs`)."""
