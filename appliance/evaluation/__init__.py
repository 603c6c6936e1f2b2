"""Evaluation: retrieval metrics (BEIR format), answer metrics, failure audit, advisor."""
