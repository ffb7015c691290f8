"""The compute host's gRPC handlers."""
