"""Zero-code integrations: the webhooks tools already send, translated into outcome events.

Each tool is one module holding a pure translation, `facts(headers, payload)`: the run it
reports (its fields for rules, outcome, end time, duration, an id from the tool's own ids)
or why it carries no outcome. `translate` applies an Integration declaration's rules to
those facts: the first matching rule names the project and automation and adds the
declared baselines and cost. Signature checks live apart, in `auth`. The gateway
(`POST /v1/hooks/{integration}`) and the collector (CDEvents on its topic) both use this.
"""
