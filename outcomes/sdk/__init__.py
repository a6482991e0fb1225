"""Producer SDK for outcome events. Imports only `schemas` and kafka-python."""

from outcomes.sdk.delivery import DeliveryQueue, KafkaSender, Sender
from outcomes.sdk.emitter import Emitter, Run
from outcomes.sdk.events import new_event
from outcomes.sdk.testing import MemorySender

__all__ = ["DeliveryQueue", "Emitter", "KafkaSender", "MemorySender", "Run", "Sender", "new_event"]
