"""Secrets, verification factors and data-minimisation rules."""
