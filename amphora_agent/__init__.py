"""The amphora agent: applies rendered configs, reloads, reports. Imports no controller code."""
