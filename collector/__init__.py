"""The outcome telemetry collector: Kafka source, aggregation engine, state stores."""
