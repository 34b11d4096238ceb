"""Adapters: persistence (SQLAlchemy), messaging and other I/O behind the service layer."""
