"""Judging a model: per-tag metrics with intervals, calibration (Brier, ECE, per-tag calibrators),
identity-subgroup bias metrics, curves for DVC plots, results tables, the model card, and the
Markdown report of what a change did to params and metrics."""
