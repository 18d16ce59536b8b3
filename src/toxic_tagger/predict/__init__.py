"""Scoring comments with an exported model: the torch and ONNX Runtime runtimes, and the
comment files `toxic-tagger predict` reads and writes."""
