"""Quantum key distribution: pulse-level simulation, post-processing, analytic rates and bounds."""
