"""The haproxy backend: transform the graph into plain data, then render haproxy.cfg."""
