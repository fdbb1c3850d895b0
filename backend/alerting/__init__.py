"""Telling people: alerts on targets going down and up, maintenance windows, watch-lists
on what is heard and located, and the delivery of notifications through apprise."""
