"""Heimdall Live backend: everything that is not a page. Never imports NiceGUI."""

__version__ = "0.1.0"
