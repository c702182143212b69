"""The mentor knowledge base: transcripts in, grounded examples out (the RAG half).

====================  ===========================================================
module                owns
====================  ===========================================================
:mod:`.ingest`        reading transcript files (txt, md, srt, vtt, json, csv) into chunks
:mod:`.embeddings`    embeddings keys -> LangChain ``Embeddings`` (bundled MiniLM offline)
:mod:`.vectorstore`   ``FaissStore``: documents by id, cosine over a FAISS index
:mod:`.store`         the index folder: FAISS index + JSON docstore + manifest, no pickle
:mod:`.index`         building an index (``reelcal index``), the bundled one, loading it
:mod:`.retriever`     ``MentorRetriever`` (the ``retrieve`` step) and the example blocks
:mod:`.trimming`      ``TokenBudgetTrimmer`` (the ``trim`` step): examples within a budget
====================  ===========================================================
"""
