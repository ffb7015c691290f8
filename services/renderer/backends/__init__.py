"""Backend renderers, one package per appliance software."""
