"""Grading: parse typed answers, judge them against the manifest, error carried forward, reports."""
