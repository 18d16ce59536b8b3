"""Judging a model: per-tag metrics with intervals, curves for DVC plots, results tables, the
model card, and the Markdown report of what a change did to params and metrics."""
