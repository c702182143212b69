"""Writing the month: models, token budgets, prompts, the writer, parsing and the graph.

==================  =============================================================
module              owns
==================  =============================================================
:mod:`.models`      model keys -> chat models, their limits and token counters
:mod:`.tokens`      exact token counting (tiktoken offline, llama.cpp vocabularies)
:mod:`.budget`      every token formula: max_tokens, days per call, what is learned
:mod:`.prompts`     the prompt templates (data in ``prompts/``)
:mod:`.schema`      the reply's JSON schema (tool parameters, llama.cpp grammar)
:mod:`.replies`     a model's traits and what its reply holds
:mod:`.writer`      ``DayWriter``: prompt | bind_max_tokens | model | parse
:mod:`.parsing`     replies -> ``DayPlan`` rows (with :mod:`.cells`,
                    :mod:`.pipe_rows`, :mod:`.json_rows`)
:mod:`.failures`    which errors are retried, and the retry loop
:mod:`.state`       the month graph's state (plain JSON) and request checks
:mod:`.engine`      the graph's nodes: prepare, retrieve, fit, plan_chunks, write, merge
:mod:`.graph`       the nodes wired into a LangGraph ``StateGraph``
:mod:`.runs`        run ids, the SQLite checkpointer, resuming, partial saves
:mod:`.chains`      the public builders: ``build_calendar_chain``, ``generate_calendar``...
:mod:`.planning`    ``reelcal plan``: the calls a month would make, without making them
==================  =============================================================
"""
