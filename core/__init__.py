"""What every mentiondesk process shares: settings, the brands config, the Kafka bus, the database
and notifications. It imports only `schemas`; ingest, sentiment and desk build on it."""
