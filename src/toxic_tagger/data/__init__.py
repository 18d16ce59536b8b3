"""Comments in: fetch a source, read and validate comment CSVs, split and balance them,
tokenize, measure token lengths, batch under a token budget, and serve them to Lightning."""
