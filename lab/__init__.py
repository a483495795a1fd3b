"""The lab: tools people and CI run around the pipeline (review, reports, branches, sweeps,
research results, tuning, the demo). No stage depends on any of it (tests/unit/test_layout.py)."""
