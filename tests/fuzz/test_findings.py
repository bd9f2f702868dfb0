"""What the fuzz targets found, each as a regression test (issue 12: every crash becomes one)."""

from __future__ import annotations

import struct
import zlib
from pathlib import Path

import pytest

from auctioneer.exchange import Exchange, OpenAccount, Role
from auctioneer.exchange.durable import restore_saved
from auctioneer.exchange.journal import JournalError, replay
from auctioneer.exchange.snapshot import Saved, decode_saved, encode_saved
from auctioneer.sim.scenario import ScenarioError, load_scenario

_HEADER, _SEQ = struct.Struct("<IIQ"), struct.Struct("<Q")


@pytest.mark.parametrize(("text", "message"), [
    # scenario_yaml: PyYAML's ReaderError (not a MarkedYAMLError) escaped as a traceback.
    ("\x1f\n", "character 0: malformed YAML: special characters are not allowed (#x001f)"),
    # A complex key is a list: `key in seen` raised TypeError (unhashable).
    ("? [a, b]\n: 1\n", "line 1 column 3: a list cannot be a key"),
    ("[" * 5000 + "\n", "malformed YAML"),
])
def test_scenario_yaml_findings(text: str, message: str) -> None:
    with pytest.raises(ScenarioError, match=message.replace("[", r"\[").replace("(", r"\(")
                       .replace(")", r"\)")):
        load_scenario(text)


def test_snapshot_reader_finding_a_state_of_the_wrong_types_is_a_value_error() -> None:
    # snapshot_reader: an account id of 0.5 restored, then hashing it raised TypeError,
    # which load_snapshot (catching OSError and ValueError) let through to the service start.
    ex = Exchange()
    ex.apply(OpenAccount("a", Role.TRADER))
    ex.apply(OpenAccount("b", Role.TRADER))
    state = ex.snapshot()
    state["accounts"][0][0] = 0.5
    data = encode_saved(Saved(1, "0" * 64, state, {}))
    with pytest.raises(ValueError, match="the state saved at 1 does not restore"):
        restore_saved(decode_saved(data))


@pytest.mark.parametrize("payload", [b'{"type":"tick","ts_ns":"x"}', b"garbage",
                                     b'{"type":"tick","ts_ns":1e999}'])
def test_journal_reader_finding_a_checksummed_record_that_is_no_command(
        tmp_path: Path, payload: bytes) -> None:
    # journal_reader: CommandError (a ValueError) escaped replay, whose contract is
    # JournalError for any damage but a torn tail.
    crc = zlib.crc32(payload, zlib.crc32(_SEQ.pack(1)))
    (tmp_path / "journal-00000000000000000001.log").write_bytes(
        _HEADER.pack(len(payload), crc, 1) + payload)
    with pytest.raises(JournalError, match="record 1 is not a command"):
        list(replay(tmp_path))
