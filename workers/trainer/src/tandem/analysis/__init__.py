"""The mixed-effects model of a study (analysis.py, also shipped in every analysis bundle beside analysis.R)."""
