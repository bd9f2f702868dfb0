"""Scale-out: commands sequenced through NATS JetStream, one matching engine per partition.

The API side routes each command to the partition of its markets
(:mod:`~auctioneer.exchange.scaleout.partition`) and publishes it, encoded by
the exchange's codec, on subject ``cmd.<partition>`` of one JetStream stream
with an idempotency key (:mod:`~auctioneer.exchange.scaleout.publisher`,
:mod:`~auctioneer.exchange.scaleout.stream`). Each partition's engine applies
its subject in stream order and checkpoints its snapshot together with the
stream sequence it covers (:mod:`~auctioneer.exchange.scaleout.replica`,
:mod:`~auctioneer.exchange.scaleout.checkpoint`), so replicas agree and a
crashed engine resumes exactly where its checkpoint left off. On a
three-node cluster (:mod:`~auctioneer.exchange.scaleout.cluster`) each
partition has a leader, chosen by a KV lease
(:mod:`~auctioneer.exchange.scaleout.lease`), that alone appends to the
partition's event log (:mod:`~auctioneer.exchange.scaleout.eventlog`), and
warm replicas that take over (:mod:`~auctioneer.exchange.scaleout.leader`).
A bid whose markets span partitions runs through the
:mod:`~auctioneer.exchange.scaleout.coordinator` (one leg per partition, a
saga logged on its own stream).
``docs/scale-out.md`` gives the architecture, the guarantees and the limits.

Example:
    >>> from auctioneer.exchange import Tick
    >>> partitions = PartitionMap.spread(2, ["us-east-1", "eu-west-1"])
    >>> Router(partitions).route(Tick(1)), partitions.of_market("eu-west-1/gpu.a100")
    ((0, 1), 1)
"""

from auctioneer.exchange.scaleout.checkpoint import (
    Checkpoint,
    CheckpointError,
    read_checkpoint,
    write_checkpoint,
)
from auctioneer.exchange.scaleout.cluster import LocalCluster
from auctioneer.exchange.scaleout.commandfile import (
    CommandFileError,
    dumps_commands,
    read_commands,
)
from auctioneer.exchange.scaleout.coordinator import (
    Coordinator,
    CrossBid,
    CrossBidError,
    LegOutcome,
    drive,
    place,
)
from auctioneer.exchange.scaleout.crossbid import NatsLegs, StreamLog
from auctioneer.exchange.scaleout.eventlog import Entry, EventSpec, Projection
from auctioneer.exchange.scaleout.leader import ClusterEngine, EngineConfig, EngineReport
from auctioneer.exchange.scaleout.lease import Lease
from auctioneer.exchange.scaleout.node import (
    EngineStatus,
    NatsConnectError,
    connect,
    publish_items,
    run_engine,
)
from auctioneer.exchange.scaleout.partition import PartitionMap, Router, RoutingError
from auctioneer.exchange.scaleout.publisher import Published, Publisher, Routed, message_id
from auctioneer.exchange.scaleout.replica import PartitionEngine
from auctioneer.exchange.scaleout.server import (
    LocalNats,
    LocalServer,
    NatsServerError,
    find_nats_server,
)
from auctioneer.exchange.scaleout.stream import (
    DEFAULT_STREAM,
    PartitionMapMismatch,
    StreamMessage,
    StreamSpec,
    ensure_stream,
    last_sequence,
    messages,
)
from auctioneer.exchange.scaleout.workload import workload

__all__ = [
    "DEFAULT_STREAM",
    "Checkpoint",
    "CheckpointError",
    "ClusterEngine",
    "CommandFileError",
    "Coordinator",
    "CrossBid",
    "CrossBidError",
    "EngineConfig",
    "EngineReport",
    "EngineStatus",
    "Entry",
    "EventSpec",
    "Lease",
    "LegOutcome",
    "LocalCluster",
    "LocalNats",
    "LocalServer",
    "NatsLegs",
    "NatsConnectError",
    "NatsServerError",
    "PartitionEngine",
    "PartitionMap",
    "PartitionMapMismatch",
    "Projection",
    "Published",
    "Publisher",
    "Routed",
    "Router",
    "RoutingError",
    "StreamLog",
    "StreamMessage",
    "StreamSpec",
    "connect",
    "drive",
    "dumps_commands",
    "ensure_stream",
    "find_nats_server",
    "last_sequence",
    "message_id",
    "messages",
    "place",
    "publish_items",
    "read_checkpoint",
    "read_commands",
    "run_engine",
    "workload",
    "write_checkpoint",
]
