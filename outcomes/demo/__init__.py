"""`outcomes demo`: the whole loop on one machine (broker, collector, gateway, a simulated
fleet and tools posting their own webhooks)."""
