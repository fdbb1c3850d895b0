"""What leaves the gateway, kept safe: secrets redacted wherever a URL or a notification
URL is shown or logged (`redact.py`), and where the connections of what people made at
run time may go (`destinations.py`). At the bottom of the house: every room may use it,
it uses none."""
