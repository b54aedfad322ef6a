"""Quantum machine learning models beside classical baselines (PennyLane, scikit-learn API)."""
