"""The HTTP door: the Flask app and its routes (``api``), and the servers that run it.

``shop run`` serves it with werkzeug (``dev_server``), ``shop api`` under gunicorn
(``gunicorn_app``, ``gunicorn_worker``); both log requests alike (``access_log``).
"""
