"""Use cases: plain-function handlers of the shop's commands and events."""
