"""The Heimdall platform's own events, from its RabbitMQ exchange, and our answers on it."""
