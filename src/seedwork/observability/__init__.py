"""Metrics and traces of the bus, the outbox, the relay and the consumer (off unless wired)."""
