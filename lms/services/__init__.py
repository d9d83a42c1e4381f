"""Domain services: each takes a session and plain values, and owns the commit."""
