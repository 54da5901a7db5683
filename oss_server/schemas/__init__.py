"""Schemas per domain: the wire contract. Input and output schemas are separate."""
