"""Entrypoints: the HTTP API, the Redis consumer, the outbox relay and the CLI."""
