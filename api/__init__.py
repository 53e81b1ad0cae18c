"""The HTTP face of the service: Litestar controllers, auth, wire schemas and errors."""
