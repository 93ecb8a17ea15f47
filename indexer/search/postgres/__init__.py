"""The PostgreSQL backend of the search engine (``PgSearchEngine`` in ``index.py``): jieba words
and positional character bigrams in GIN-indexed ``tsvector`` columns, the query language
compiled to ``tsquery`` and verified on the stored text with the Whoosh backend's rules. Opened
by :func:`indexer.search.open_engine` when the library's database URL is a PostgreSQL one."""
