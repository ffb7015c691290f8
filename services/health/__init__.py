"""The health service: receives signed amphora heartbeats, rolls them up into operating statuses."""
