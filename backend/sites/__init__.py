"""Probes from several sites: agents probe the targets from elsewhere and report what
they saw; a target is down for alerting when enough sites agree (quorum.py)."""
