"""A simulated Heimdall network for newcomers (`python main.py --demo`): only a source of
traffic. Its services and receivers answer on loopback and are polled by the real
monitor; its detections and localizations go through the real ingestion API."""
