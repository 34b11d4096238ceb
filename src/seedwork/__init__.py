"""seedwork: the reusable core of a message-bus application (knows nothing of the shop)."""
