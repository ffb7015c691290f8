"""Helpers shared by the end-to-end and compatibility tests: the stack as processes, backends."""
