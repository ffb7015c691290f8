"""Thin gRPC handlers: decode, call the domain, encode."""
