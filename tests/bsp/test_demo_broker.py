"""The demo's filesystem broker: a consumer sees a whole message or none, however the
producer's write and the consumer's take interleave."""

from __future__ import annotations

import threading
from queue import Empty
from typing import cast

from kombu import Connection

from bsp import demo_broker


def _connection(tmp_path) -> Connection:
    folders = {name: tmp_path / name for name in ("out", "processed", "control", "staging")}
    for folder in folders.values():
        folder.mkdir()
    return Connection(
        "filesystem://localhost//",
        transport=demo_broker.Transport,
        transport_options={
            "data_folder_in": str(folders["out"]),
            "data_folder_out": str(folders["out"]),
            "processed_folder": str(folders["processed"]),
            "control_folder": str(folders["control"]),
            "staging_folder": str(folders["staging"]),
            "store_processed": False,
        },
    )


def _channel(connection: Connection) -> demo_broker.Channel:
    return cast(demo_broker.Channel, connection.channel())


def test_a_message_appears_in_the_queue_only_once_written_whole(tmp_path, monkeypatch):
    connection = _connection(tmp_path)
    channel = _channel(connection)
    seen_at_rename: list[tuple[list[str], bytes]] = []
    real_replace = demo_broker.os.replace

    def replace(source: str, target: str) -> None:
        queue_folder = tmp_path / "out"
        with open(source, "rb") as staged:
            seen_at_rename.append((sorted(p.name for p in queue_folder.iterdir()), staged.read()))
        real_replace(source, target)

    monkeypatch.setattr(demo_broker.os, "replace", replace)
    channel._put("default", {"body": "x" * 10_000})
    ((queue_files_before, staged_bytes),) = seen_at_rename
    assert queue_files_before == []  # nothing visible while it was being written
    assert staged_bytes.endswith(b"}") and len(staged_bytes) > 10_000
    assert channel._get("default") == {"body": "x" * 10_000}
    assert list((tmp_path / "staging").iterdir()) == []


def test_a_consumer_taking_messages_while_one_is_being_written_finds_none_of_it(
    tmp_path, monkeypatch
):
    """The consumer runs at the worst moment: while the producer serialises and writes
    (kombu's own transport has already created the empty file then: JSONDecodeError)."""
    connection = _connection(tmp_path)
    producer, consumer = _channel(connection), _channel(connection)
    taken: list[object] = []
    real_dumps = demo_broker.dumps

    def dumps_while_consuming(payload: object) -> str:
        try:
            taken.append(consumer._get("default"))
        except Empty:
            taken.append("nothing yet")
        return real_dumps(payload)

    monkeypatch.setattr(demo_broker, "dumps", dumps_while_consuming)
    producer._put("default", {"n": 1})
    assert taken == ["nothing yet"]
    assert consumer._get("default") == {"n": 1}


def test_a_consumer_racing_the_producer_reads_every_message_whole_and_once(tmp_path):
    connection = _connection(tmp_path)
    producer, consumer = _channel(connection), _channel(connection)
    count = 400
    received: list[int] = []
    errors: list[Exception] = []
    done = threading.Event()

    def consume() -> None:
        while not done.is_set() or len(received) < count:
            try:
                received.append(consumer._get("default")["n"])
            except Empty:
                continue
            except Exception as exc:  # a half-written message
                errors.append(exc)
                return

    reader = threading.Thread(target=consume)
    reader.start()
    for n in range(count):
        producer._put("default", {"n": n, "padding": "p" * 50_000})
    done.set()
    reader.join(timeout=60)
    assert errors == []
    assert sorted(received) == list(range(count))
