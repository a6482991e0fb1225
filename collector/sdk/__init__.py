"""Producer SDK for outcome events. Imports only `schemas` and kafka-python."""

from collector.sdk.delivery import DeliveryQueue, KafkaSender, Sender
from collector.sdk.emitter import Emitter, Run
from collector.sdk.events import new_event

__all__ = ["DeliveryQueue", "Emitter", "KafkaSender", "Run", "Sender", "new_event"]
