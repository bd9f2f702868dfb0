"""Documents built from the project's own commands: every number has a named source.

:mod:`~tools.docs.render` turns a markdown template with markers into a
document from JSON; :mod:`~tools.docs.build` runs the commands that
write that JSON; :mod:`~tools.docs.design` says which command feeds each
table of ``docs/design.md``; :mod:`~tools.docs.bpf` describes the
sched_ext prototype's BPF object. ``make docs`` runs ``python -m tools.docs build``.

Example:
    >>> from tools.docs import lookup
    >>> lookup({"rows": [{"n": 10, "ns": 5}]}, "rows[n=10].ns")
    5
"""

from tools.docs.bpf import bpf_facts, count_instructions
from tools.docs.build import BuildReport, build, build_documents, run_sources
from tools.docs.design import DESIGN_SPEC, DOCUMENTS
from tools.docs.render import (
    Column,
    Derived,
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
    "DOCUMENTS",
    "BuildReport",
    "Column",
    "DocSpec",
    "Derived",
    "DocsError",
    "Figure",
    "Source",
    "SourceTable",
    "Table",
    "Value",
    "bpf_facts",
    "build",
    "build_documents",
    "count_instructions",
    "format_value",
    "load_inputs",
    "lookup",
    "render_template",
    "run_sources",
]
