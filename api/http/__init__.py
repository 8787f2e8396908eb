"""The HTTP API: the app factory, its dependencies, error mapping, and one router per resource."""
