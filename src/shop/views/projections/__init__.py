"""Projections: writing the read models.

``apply``: each event applied to the read-model tables, inline in the transaction that records
it (``project``) or replayed from the event log; ``upserts``: their guarded upserts;
``rebuild`` and ``shadow``: rebuilding every read model from the log into shadow tables.
"""
