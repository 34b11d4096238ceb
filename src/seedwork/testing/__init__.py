"""Fakes for unit tests (in-memory unit of work, repositories, publisher, dead letters) and
contract tests that real and fake implementations both pass."""
