"""The message-bus core: messages, aggregates, errors, injection, the bus, the unit-of-work
protocol, serialization and retry. It imports no database or broker driver (enforced by
import-linter): a reason to change here is a change to how messages are handled, never a
change of storage or transport."""
