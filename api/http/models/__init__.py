"""Response models of the HTTP API, for the OpenAPI document (handlers build their JSON directly)."""
