"""The shop's pure domain model: value objects, aggregates, messages and errors (no I/O)."""
