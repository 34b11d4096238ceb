"""Transport over Redis: channel names, the publisher, dead letters, the command reader and
consumer, lanes and listeners. It never imports SQLAlchemy: what it needs of storage (has this
message been applied?) it is given as a core protocol."""
