"""Fraud-detection asset graph over PaySim-shaped mobile-money transactions."""
