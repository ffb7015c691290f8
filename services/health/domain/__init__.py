"""Plain-Python rules of the health service: envelopes, replay, registry, roll-up, reporting."""
