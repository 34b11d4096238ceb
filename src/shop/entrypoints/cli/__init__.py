"""The ``shop`` command line (CONTRACT §1): ``main`` parses, the other modules do the work."""
