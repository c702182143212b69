"""Chat models and what every layer above needs of them: model keys to chat models and
their limits (:mod:`.chat`), the bundled local model (:mod:`.local`) and the llama.cpp
chat model it runs on (:mod:`.llamacpp`, its contexts in :mod:`.llama_contexts`), exact
token counting (:mod:`.tokens`), a model's traits and reply parts (:mod:`.traits`), which
errors are retried (:mod:`.failures`), rate limits (:mod:`.ratelimits`) and the response
cache (:mod:`.cache`).

Both :mod:`pipeline.knowledge` and :mod:`pipeline.generation` stand on this layer; it
imports neither.
"""
