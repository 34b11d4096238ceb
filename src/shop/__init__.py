"""shop: an e-commerce order service built around an in-process message bus."""
