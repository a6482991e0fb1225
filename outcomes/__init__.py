"""The front door: what people run (the `outcomes` CLI, the gateway, importers, the report,
the dead-letter tools, the demo) and what producers import (`outcomes.sdk`)."""
