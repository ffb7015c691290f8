"""Domain of the renderer: rendered files, hashing, strict value filters, version gating."""
