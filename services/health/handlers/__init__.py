"""gRPC handlers of the health service."""
