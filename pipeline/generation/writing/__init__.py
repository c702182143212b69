"""Writing a chunk of days: the writer's LCEL chain (:mod:`.writer`: prompt |
bind_max_tokens | model | parse), the prompts (:mod:`.prompts`), the reply schema
(:mod:`.schema`), every token formula (:mod:`.budget`) and what gives way when a prompt
grows (:mod:`.fitting`)."""
