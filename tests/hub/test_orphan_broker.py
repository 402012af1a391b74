"""A hub SIGKILLed leaves its mosquitto behind; the next hub must still start."""
import subprocess
import sys
import textwrap

from hub.brokers import MosquittoBroker, wait_for_port
from tests.mqtt_fixtures import DEVICES, broker_dir, free_port


def test_restarted_hub_ends_the_orphaned_broker():
    folder, port = broker_dir(), free_port()
    script = textwrap.dedent(f"""
        import os
        from hub.brokers import MosquittoBroker
        b = MosquittoBroker({folder!r}, "127.0.0.1", {port}, {DEVICES!r}, office="office")
        b.start()
        os._exit(9)             # the hub dies without a word; mosquitto lives on
    """)
    assert subprocess.run([sys.executable, "-c", script], timeout=60).returncode == 9
    assert wait_for_port("127.0.0.1", port, 1.0), "the orphan should still be listening"
    again = MosquittoBroker(folder, "127.0.0.1", port, DEVICES, office="office")
    again.start()
    try:
        assert again.running() and wait_for_port("127.0.0.1", port, 1.0)
    finally:
        again.stop()
