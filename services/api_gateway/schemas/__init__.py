"""Request models (pydantic v2, extra="forbid") for each Octavia resource."""
