"""Adapters: database, drivers, gRPC clients."""
