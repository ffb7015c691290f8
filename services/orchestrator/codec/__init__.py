"""Translation between the lbaas.common.v1 messages and plain column values / database rows."""
