"""What is kept of what a model wrote: the content rules (:mod:`.rules`), titles unique by
meaning (:mod:`.titles`), pillar shares (:mod:`.pillars`), what an outline day builds on
and the trend floor (:mod:`.uses`), and the review of a round's rows (:mod:`.rows`)."""
