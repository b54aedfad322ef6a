"""State and network tomography: classical and learned estimators of what the network delivers."""
