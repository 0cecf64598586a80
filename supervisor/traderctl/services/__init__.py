"""Services: their config spec, types, probes and the runtime that keeps them up."""
