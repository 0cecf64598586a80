"""Built-in plugins: the core's own features, registered through the same hooks as any plugin."""
