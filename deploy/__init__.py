"""Running coopbridge: the embedded Kafka broker, topic set-up, the CLI."""
