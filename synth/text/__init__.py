"""Text helpers shared by several stages: word statistics, MinHash near-duplicates, union-find,
sentence embeddings, the concept lexicon and concept extraction."""
