"""Built-in commands, one per module; the built-in plugins register them."""
