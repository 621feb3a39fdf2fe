"""Alert channels: e-mail digests through a durable outbox."""
