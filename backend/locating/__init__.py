"""Locating transmitters: the geometry of the receivers that can take part."""
