"""Documents built from the project's own commands: every number has a named source.

:mod:`~auctioneer.docs.render` turns a markdown template with markers into a
document from JSON; :mod:`~auctioneer.docs.build` runs the commands that
write that JSON; :mod:`~auctioneer.docs.design` says which command feeds each
table of ``docs/design.md``; :mod:`~auctioneer.docs.bpf` describes the
sched_ext prototype's BPF object. ``make docs`` runs ``auctioneer docs build``.

Example:
    >>> from auctioneer.docs import lookup
    >>> lookup({"rows": [{"n": 10, "ns": 5}]}, "rows[n=10].ns")
    5
"""

from auctioneer.docs.bpf import bpf_facts, count_instructions
from auctioneer.docs.build import BuildReport, build, run_sources
from auctioneer.docs.design import DESIGN_SPEC
from auctioneer.docs.render import (
    Column,
    DocsError,
    DocSpec,
    Figure,
    Source,
    SourceTable,
    Table,
    Value,
    format_value,
    load_inputs,
    lookup,
    render_template,
)

__all__ = [
    "DESIGN_SPEC",
    "BuildReport",
    "Column",
    "DocSpec",
    "DocsError",
    "Figure",
    "Source",
    "SourceTable",
    "Table",
    "Value",
    "bpf_facts",
    "build",
    "count_instructions",
    "format_value",
    "load_inputs",
    "lookup",
    "render_template",
    "run_sources",
]
