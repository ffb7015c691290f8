"""nginx renderer backend."""
