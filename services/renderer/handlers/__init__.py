"""The renderer's gRPC handlers."""
