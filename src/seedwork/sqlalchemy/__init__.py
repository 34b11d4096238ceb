"""Storage with SQLAlchemy: the tables, the unit of work, the inbox, the outbox and its relay,
failed events and recovery. It never imports Redis: the relay publishes through a callable it
is given."""
