"""The SQLite projector fed changes (the follower's path) against the reference (events,
SQLAlchemy, a statement per row): the same tables on random command streams, the same refusals
of integers outside 64 bits."""

from __future__ import annotations

from pathlib import Path
from typing import Any

import pytest
from hypothesis import given, settings
from hypothesis import strategies as st
from sqlalchemy import Engine, Select, select

from auctioneer.exchange import Command, Exchange, Market, Role, Side
from auctioneer.exchange import commands as c
from auctioneer.exchange.events import Accepted, Traded
from auctioneer.service.changes import changes
from auctioneer.service.projector import Applied, ProjectionError, Projector, read_fault
from auctioneer.service.sqliteprojector import SqliteProjector, projector_for
from auctioneer.service.store import connect, ledger, metadata, orders, projected_seq

from .test_projection import IDS, PROVIDERS, TRADERS, setup, streams


def _tables(db: Engine) -> dict[str, list[tuple[object, ...]]]:
    with db.connect() as conn:
        return {table.name: sorted(tuple(row) for row in conn.execute(select(table)))
                for table in metadata.sorted_tables}


def _feed(projector: Projector, applied: list[Applied], reset: bool = False) -> None:
    """The reference's way (``project``) to the reference, the follower's (its changes) to
    the SQLite projector."""
    if type(projector) is Projector:
        projector.project(applied, reset=reset)
        return
    first, last = (applied[0][0], applied[-1][0]) if applied else (1, 0)
    projector.project_changes([change for one in applied for change in changes(*one)],
                              first, last, reset=reset)


def _project(db: Engine, kind: type[Projector], applied: list[Applied],
             cuts: list[int]) -> None:
    bounds = sorted({0, len(applied), *(cut for cut in cuts if cut < len(applied))})
    for lo, hi in zip(bounds, bounds[1:], strict=False):
        _feed(kind(db), applied[lo:hi])  # a fresh projector: as after a restart


@settings(max_examples=40, deadline=None)
@given(stream=streams(), cuts=st.lists(st.integers(0, 200), max_size=6),
       rebuild=st.booleans())
def test_the_same_tables_as_the_reference(tmp_path_factory: pytest.TempPathFactory,
                                          stream: list[Command], cuts: list[int],
                                          rebuild: bool) -> None:
    exchange = Exchange()
    applied: list[Applied] = [(seq, cmd, exchange.apply(cmd))
                              for seq, cmd in enumerate(stream, 1)]
    directory = tmp_path_factory.mktemp("db")
    reference, fast = (connect(f"sqlite:///{directory / name}") for name in ("r.db", "f.db"))
    _project(reference, Projector, applied, cuts)
    if rebuild:  # tables from another journal, replaced in the rebuild's transaction
        _feed(SqliteProjector(fast), applied[:3])
        _feed(SqliteProjector(fast), applied[:len(applied) // 2], reset=True)
        _project(fast, SqliteProjector, applied[len(applied) // 2:], cuts)
    else:
        _project(fast, SqliteProjector, applied, cuts)
    assert projected_seq(fast) == len(applied)
    assert _tables(fast) == _tables(reference)
    for db in (reference, fast):
        db.dispose()


def test_batches_longer_than_a_statement(tmp_path: Path) -> None:
    """Batches of more rows than one multi-row INSERT holds (and a remainder), cut off-beat:
    the same tables as the reference."""
    stream = setup()
    for i in range(40):
        market = IDS[i % 2]
        stream += [c.PlaceOrder(f"s{i}", PROVIDERS[i % 2], Side.SELL, (market,), 100, 1,
                                ts_ns=2 * i),
                   c.PlaceOrder(f"b{i}", TRADERS[i % 2], Side.BUY, (market,), 100 + i % 3, 1,
                                ts_ns=2 * i + 1)]
    exchange = Exchange()
    applied: list[Applied] = [(seq, cmd, exchange.apply(cmd))
                              for seq, cmd in enumerate(stream, 1)]
    reference, fast = (connect(f"sqlite:///{tmp_path / name}") for name in ("r.db", "f.db"))
    _project(reference, Projector, applied, [])
    _project(fast, SqliteProjector, applied, [len(setup()) + 37])
    tables = _tables(fast)
    assert tables == _tables(reference)
    assert (len(tables["orders"]), len(tables["trades"]), len(tables["ledger"])) == (80, 40, 84)
    for db in (reference, fast):
        db.dispose()


_MARKET = Market("r1", "gpu", 1, 100)
_SETUP: list[Applied] = [
    (1, c.ListMarket(_MARKET), [Accepted("list_market", _MARKET.id, 0)]),
    (2, c.OpenAccount("t", Role.TRADER), [Accepted("open_account", "t", 0)]),
]


def _poison(value: int) -> list[Applied]:
    """Records whose rows carry ``value`` in each integer column the projector writes."""
    ok = [Accepted("", "", 0)]
    return [
        (3, c.Deposit("t", value), ok),
        (3, c.OpenAccount("u", Role.TRADER, ts_ns=value), ok),
        (3, c.AddCapacity("t", _MARKET.id, value), ok),
        (3, c.PlaceOrder("o", "t", Side.BUY, (_MARKET.id,), value, 1), ok),
        (3, c.PlaceOrder("o", "t", Side.BUY, (_MARKET.id,), 1, value), ok),
        (3, c.PlaceOrder("b", "t", Side.BUY, (_MARKET.id,), 2**62, 4),
         [Traded(1, _MARKET.id, "b", "s", "t", "p", 2**62, 4, Side.BUY, 0)]),
        (3, c.Tick(0), [Traded(1, _MARKET.id, "b", "s", "t", "p", 1, 1, Side.BUY, value)]),
    ]


@pytest.mark.parametrize("value", [2**63, 10**30, -(2**63) - 1],
                         ids=["2**63", "10**30", "-2**63-1"])
def test_the_same_refusals_as_the_reference(tmp_path: Path, value: int) -> None:
    for i, poison in enumerate(_poison(value)):
        errors = []
        for kind in (Projector, SqliteProjector):
            db = connect(f"sqlite:///{tmp_path / f'{kind.__name__}{i}.db'}")
            _feed(kind(db), _SETUP)
            for attempt in (1, 2):  # the second one after a recorded fault
                with pytest.raises(ProjectionError) as caught:
                    _feed(kind(db), [poison])
                fault = read_fault(db)
                assert fault is not None and (fault.seq, fault.count) == (3, attempt)
            errors.append(str(caught.value))
            assert projected_seq(db) == 2, poison
            _feed(kind(db), [(3, c.Tick(0), [Accepted("tick", "", 0)])])
            assert (projected_seq(db), read_fault(db)) == (3, None)
            db.dispose()
        assert errors[0] == errors[1] and "does not fit a 64-bit SQL integer" in errors[0]


def test_sqlite_gets_the_fast_projector(tmp_path: Path) -> None:
    assert type(projector_for(connect(f"sqlite:///{tmp_path / 't.db'}"))) is SqliteProjector


def _plan(db: Engine, query: Select[Any]) -> str:
    sql = str(query.compile(db, compile_kwargs={"literal_binds": True}))
    with db.connect() as conn:
        return " | ".join(row[-1] for row in conn.exec_driver_sql(f"EXPLAIN QUERY PLAN {sql}"))


def test_the_service_reads_stay_indexed(tmp_path: Path) -> None:
    """SQLite keeps only the indexes the service's reads use (orders by id, the ledger by
    account, newest first): each still a search, never a scan of the table."""
    db = connect(f"sqlite:///{tmp_path / 't.db'}")
    by_id = _plan(db, select(orders).where(orders.c.id.in_(["o1", "o2"])))
    ledger_of = _plan(db, select(ledger).where(ledger.c.account == "t")
                      .order_by(ledger.c.id.desc()).limit(100))
    assert "SEARCH orders USING PRIMARY KEY" in by_id, by_id
    assert "SEARCH ledger USING INDEX ledger_by_account" in ledger_of, ledger_of
    assert "SCAN" not in by_id + ledger_of and "TEMP B-TREE" not in ledger_of
    with db.connect() as conn:
        indexes = {name for (name,) in conn.exec_driver_sql(
            "SELECT name FROM sqlite_master WHERE type = 'index' AND sql IS NOT NULL")}
    assert indexes == {"ledger_by_account"}
    db.dispose()
