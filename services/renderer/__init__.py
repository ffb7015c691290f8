"""The renderer service: a pure function from the load-balancer graph to appliance config files."""
