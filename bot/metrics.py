"""Prometheus metrics of the running bot (served on /metrics by bot.http)."""

from __future__ import annotations

from prometheus_client import CollectorRegistry, Counter, Gauge, Histogram

from bot.models import Role

REGISTRY = CollectorRegistry()

EVENTS_HANDLED = Counter("reconnect_events_handled_total", "Events acted on", ["type"], registry=REGISTRY)
COMMANDS = Counter("reconnect_commands_total", "Commands run", ["command"], registry=REGISTRY)
# In a small community a count of `forget-me`, `crisis` or `alert` going up by one points at a person.
# So a participant's command is counted by name only when it says nothing about them; every other
# one is counted together as PERSONAL. Staff commands keep their names.
PUBLIC_COMMANDS = frozenset({"help", "whoami", "lang", "cafe", "info", "links", "exercises"})
PERSONAL = "personal"


def command_label(command: str, role: Role) -> str:
    if role in (Role.CONSULTANT, Role.ADMIN) or command in PUBLIC_COMMANDS:
        return command
    return PERSONAL
COMMANDS_LIMITED = Counter("reconnect_commands_rate_limited_total", "Commands held back by the per-person rate limit",
                           registry=REGISTRY)
REPLY_LATENCY = Histogram(
    "reconnect_reply_latency_seconds",
    "From receiving an event to its reply being accepted by the homeserver",
    buckets=(0.01, 0.025, 0.05, 0.1, 0.25, 0.5, 1, 2.5, 5, 10),
    registry=REGISTRY,
)
SEND_QUEUE = Gauge("reconnect_send_queue_depth", "Messages waiting in the outbox", registry=REGISTRY)
MESSAGES_SENT = Counter("reconnect_messages_sent_total", "Messages the homeserver accepted", registry=REGISTRY)
REMINDERS = Counter("reconnect_reminders_total", "Reminders by outcome", ["outcome"], registry=REGISTRY)
DECRYPTED_DROPPED = Counter(
    "reconnect_decrypted_events_dropped_total",
    "Decrypted events dropped because they claimed a type that must arrive unencrypted (state, redactions)",
    registry=REGISTRY,
)
UNDECRYPTABLE = Counter("reconnect_undecryptable_events_total", "Events the bot could not decrypt", registry=REGISTRY)
SYNC_FAILURES = Counter("reconnect_sync_failures_total", "Failed sync requests", registry=REGISTRY)
