"""Writing the month: the graph, its nodes and what they use, folder by folder.

======================  ===========================================================
package or module       owns
======================  ===========================================================
:mod:`.chains`          the public builders: ``build_calendar_chain``, ``generate_calendar``
:mod:`.planning`        ``reelcal plan``: the calls a month would make, without making them
:mod:`.month`           the graph (``prepare -> retrieve -> fit -> plan_outline ->
                        write_outline -> review_outline -> plan_chunks -> write ->
                        review -> route``), its nodes, spend caps, durable runs
:mod:`.outline`         the month outline: its writer, rounds, schema and parser
:mod:`.writing`         a chunk's LCEL chain, prompts, schema, token formulas, fitting
:mod:`.review`          content rules, titles by meaning, pillars, trend floor, rows kept
:mod:`.replies`         replies -> ``DayPlan`` rows
:mod:`.state`           the graph's state and the records its nodes return (plain JSON)
:mod:`.requests`        what a request may hold: span, slots, zone, platforms, trends
======================  ===========================================================

Each folder imports only those below it in this table (checked by ``make lint``);
models, tokens and failures are :mod:`pipeline.models`, a layer below.
"""
