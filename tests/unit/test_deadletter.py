"""Dead letters: what the record says, and that a letter can always be written."""

from __future__ import annotations

from schemas.registry import MAX_MESSAGE_BYTES
from services.runtime.deadletter import MAX_VALUE, letter_for, read_letter


def letter(value: bytes):
    return letter_for("es", source_topic="es.savings.commands", partition=2, offset=41,
                      key=b"k", value=value, reason="too_large", detail="too big")


def test_a_readable_sized_value_is_kept_byte_for_byte():
    original = b"\xff not json " * 100
    written = letter(original)
    assert written.value == original and written.truncated is None
    assert "coop.dlq.truncated" not in dict(written.headers)


def test_an_oversized_value_is_cut_to_what_kafka_takes_and_says_so():
    # it got in gzip-compressed; written back whole it would exceed the producers' and the
    # broker's 1 MiB limit, and the consumer would stop on that record for good
    original = b"x" * (MAX_MESSAGE_BYTES + 1000)
    written = letter(original)
    assert written.value == original[:MAX_VALUE]
    size = len(written.value) + len(written.key) + sum(
        len(k) + len(v) for k, v in written.headers)
    assert size < MAX_MESSAGE_BYTES - 1024  # room for Kafka's record and batch overhead
    back = read_letter(written.topic, written.key, written.value, written.headers)
    assert back.truncated == len(original)
    assert (back.reason, back.source_topic, back.partition, back.offset) == (
        "too_large", "es.savings.commands", 2, 41)
