"""Entrypoints: the doors into the shop and the processes that run them.

- ``http``: the Flask app, its routes and the servers (werkzeug for ``shop run``, gunicorn for
  ``shop api``);
- ``cli``: the ``shop`` command line, one module per family of commands;
- here, what a process runs whatever its door: the Redis consumer and outbox relay threads
  (``workers``), the heartbeat of a role, the embedded Redis of ``shop run``, logging.
"""
