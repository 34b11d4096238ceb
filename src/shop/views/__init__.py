"""Read models: tables kept up to date by event handlers, queried directly into plain dicts."""
