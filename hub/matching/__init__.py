"""Matching: the in-process spatial index, eligibility and ranking (pure)."""
