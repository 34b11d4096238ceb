"""Read models: ``documents`` (their shapes), ``projections`` (writing them from the events, inline
or rebuilt from the log) and ``queries`` (reading them), over the ``tables`` they share."""
