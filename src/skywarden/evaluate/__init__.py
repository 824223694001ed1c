"""Evaluation: GOSPA, track metrics (ID switches, breaks, time to confirm, false tracks)."""
