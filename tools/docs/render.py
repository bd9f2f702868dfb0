"""Render a markdown template from the JSON the project's commands write.

A document is a template plus a :class:`DocSpec`: the *sources* (each one
command of the project that writes a JSON file, and maybe a PNG, into the
output folder) and the *items* the template places:

* ``<!-- table: NAME -->`` on a line of its own: a :class:`Table`, rows taken
  from a list in a source's JSON, one column per :class:`Column`; or a
  :class:`SourceTable`, one row per source;
* ``<!-- figure: NAME -->`` on a line of its own: a :class:`Figure`, a
  source's PNG;
* ``<!-- source: NAME -->`` on a line of its own: the line naming a source's
  command, under a hand-laid table whose cells are values;
* ``{{NAME}}`` anywhere: a :class:`Value`, one number from a source's JSON, or a
  :class:`Derived`, a figure computed from one or more sources' JSON (a ratio,
  a sum of measured costs);
* ``<!-- include: PATH -->`` on a line of its own: a project file (an input
  the commands read, e.g. a scenario) as a fenced block, PATH from the root.

Every table and figure is followed by a line naming the command that
produced it, so no number in the document is typed by hand. Anything missing
(an unknown marker, a source's JSON not written, a key not in it) raises
:class:`DocsError` naming the item, the file and the command to run.

Paths into the JSON are dotted keys; a list step may select its first
element whose fields equal the given values:
``results[structure=TierBook,n=1000].in_c_ns.tick.p99``. The empty path is
the whole object (a column or value computed from several of its fields).

Example:
    >>> spec = DocSpec(
    ...     sources=(Source("demo", ("bench", "demo", "--json", "{json}"), "demo.json"),),
    ...     items=(Value("best", "demo", "rows[name=b].ns", "{:.0f} ns"),),
    ... )
    >>> render_template("fast: {{best}}", spec, {"demo": {"rows": [{"name": "b", "ns": 41.6}]}})
    'fast: 42 ns'
"""

from __future__ import annotations

import json
import re
from collections.abc import Callable, Mapping, Sequence
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any

__all__ = [
    "Column",
    "DocSpec",
    "Derived",
    "DocsError",
    "Figure",
    "Formatter",
    "Item",
    "Source",
    "SourceTable",
    "Table",
    "Value",
    "format_value",
    "load_inputs",
    "lookup",
    "render_template",
]

Formatter = str | Callable[[Any], str]
"""A ``str.format`` pattern with one field, or a function of the value."""

_TABLE = re.compile(r"^<!-- (table|figure|source): ([\w.-]+) -->[ \t]*$", re.MULTILINE)
_VALUE = re.compile(r"\{\{\s*([\w.-]+)\s*\}\}")
_INCLUDE = re.compile(r"^<!-- include: ([\w./-]+) -->[ \t]*$", re.MULTILINE)
_STEP = re.compile(r"^([\w-]+)(?:\[([^\]]*)\])?$")


class DocsError(ValueError):
    """The document cannot be built; the message names what is missing and how to make it."""


@dataclass(frozen=True, slots=True)
class Source:
    """One command of the project and the files it writes into the output folder.

    ``argv`` follows ``auctioneer`` (or, with :attr:`module`, ``python -m
    MODULE``); ``{json}`` and ``{plot}`` in it are replaced by the paths
    of :attr:`json` and :attr:`plot`, ``{dir}`` by the output folder (for a
    command that writes a folder, or reads another source's output).
    """

    name: str
    argv: tuple[str, ...]
    json: str
    plot: str | None = None
    note: str = ""
    """Why these options (e.g. a reduced run), printed beside every item from it."""
    module: str | None = None
    """A module run as ``python -m MODULE`` instead of ``auctioneer``: this build tooling
    (``tools.docs``, which reads the checkout) or a measurement the CLI does not offer."""
    validate: Callable[[Any], Any] | None = None
    """The file format's own reader (its pydantic model): parsed JSON in, the validated
    record's builtins out, ValueError naming the field. Items then read those, so a
    renamed or mistyped field fails at load, named by the format, not as a missing key."""

    def words(self, out_dir: Path) -> list[str]:
        """``argv`` with its placeholders filled in for ``out_dir``."""
        plot = str(out_dir / self.plot) if self.plot else ""
        return [w.replace("{json}", str(out_dir / self.json)).replace("{plot}", plot)
                .replace("{dir}", str(out_dir)) for w in self.argv]

    def command(self, out_dir: Path | None = None) -> str:
        """The command line as a reader would type it."""
        program = "auctioneer " if self.module is None else f"python -m {self.module} "
        return program + " ".join(
            self.words(Path("docs/design") if out_dir is None else out_dir))


@dataclass(frozen=True, slots=True)
class Column:
    """A table column: its header, a path inside each row, and how to print it."""

    header: str
    path: str
    fmt: Formatter = "{}"
    align: str = "right"


@dataclass(frozen=True, slots=True)
class Table:
    """Rows from the list at ``rows`` in a source's JSON, filtered by ``where``; with
    several paths, their rows one after another (an object is one row)."""

    name: str
    source: str
    rows: str | tuple[str, ...]
    columns: tuple[Column, ...]
    where: Mapping[str, object] = field(default_factory=dict)
    caption: str = ""


@dataclass(frozen=True, slots=True)
class SourceTable:
    """One row per source, each a JSON object (e.g. one simulation per scenario)."""

    name: str
    sources: tuple[str, ...]
    columns: tuple[Column, ...]
    caption: str = ""


@dataclass(frozen=True, slots=True)
class Figure:
    """A source's PNG with a caption."""

    name: str
    source: str
    caption: str


@dataclass(frozen=True, slots=True)
class Value:
    """One value from a source's JSON, formatted inline."""

    name: str
    source: str
    path: str
    fmt: Formatter = "{}"


@dataclass(frozen=True, slots=True)
class Derived:
    """A figure computed from the JSON of ``sources`` (one argument each, in order),
    formatted inline: a ratio of two measurements, or a plan's sum of measured costs."""

    name: str
    sources: tuple[str, ...]
    compute: Callable[..., str]


Item = Table | SourceTable | Figure | Value | Derived


@dataclass(frozen=True, slots=True)
class DocSpec:
    """The sources a document reads and the items its template places."""

    sources: tuple[Source, ...]
    items: tuple[Item, ...]

    def __post_init__(self) -> None:
        names = [s.name for s in self.sources]
        if len(set(names)) != len(names):
            raise DocsError(f"duplicate source names in {names}")
        items = [i.name for i in self.items]
        if len(set(items)) != len(items):
            twice = sorted({name for name in items if items.count(name) > 1})
            raise DocsError(f"duplicate item names: {', '.join(twice)}")
        for item in self.items:
            for source in _sources_of(item):
                if source not in names:
                    raise DocsError(f"item {item.name!r} reads unknown source {source!r}")

    def source(self, name: str) -> Source:
        """The source called ``name``."""
        return next(s for s in self.sources if s.name == name)

    def item(self, name: str, kind: type[Item] | tuple[type[Item], ...]) -> Item:
        """The item called ``name`` of the given kind, or DocsError."""
        for item in self.items:
            if item.name == name and isinstance(item, kind):
                return item
        raise DocsError(f"the template places {name!r}, which the spec does not define")


def _sources_of(item: Item) -> tuple[str, ...]:
    return item.sources if isinstance(item, SourceTable | Derived) else (item.source,)


def lookup(data: Any, path: str) -> Any:
    """The value at a dotted ``path`` in ``data``; KeyError naming the step that failed.

    >>> lookup({"a": [{"k": 1, "v": 2}, {"k": 3, "v": 4}]}, "a[k=3].v")
    4
    >>> lookup({"a": None}, "a.b") is None
    True
    """
    if path == "":
        return data
    value = data
    for step in path.split("."):
        match = _STEP.match(step)
        if match is None:
            raise KeyError(f"bad path step {step!r} in {path!r}")
        key, select = match.groups()
        if value is None:
            return None  # a null on the way (a baseline has no C timings): nothing to show
        if not isinstance(value, Mapping) or key not in value:
            raise KeyError(f"{path!r}: no key {key!r}")
        value = value[key]
        if select is not None:
            wanted = dict(part.split("=", 1) for part in select.split(","))
            if not isinstance(value, list):
                raise KeyError(f"{path!r}: {key!r} is not a list")
            value = next(
                (row for row in value if all(str(row.get(k)) == v for k, v in wanted.items())),
                None,
            )
            if value is None:
                raise KeyError(f"{path!r}: no element of {key!r} with {select}")
    return value


def format_value(value: Any, fmt: Formatter) -> str:
    """``value`` printed by ``fmt``; None prints as an en dash.

    >>> format_value(1234.5, "{:,.0f}"), format_value(None, "{:.1f}")
    ('1,234', '–')
    """
    if value is None:
        return "–"
    return fmt(value) if callable(fmt) else fmt.format(value)


def load_inputs(spec: DocSpec, out_dir: Path, needed: Sequence[str]) -> dict[str, Any]:
    """Read the JSON of every source in ``needed``; DocsError naming a missing one."""
    inputs: dict[str, Any] = {}
    for name in needed:
        source = spec.source(name)
        path = out_dir / source.json
        if not path.is_file():
            raise DocsError(
                f"missing input {path} (source {name!r}): produce it with "
                f"`{source.command(out_dir)}`"
            )
        try:
            inputs[name] = json.loads(path.read_text(encoding="utf-8"))
        except json.JSONDecodeError as exc:
            raise DocsError(f"input {path} (source {name!r}) is not JSON: {exc}") from None
        if source.validate is not None:
            try:
                inputs[name] = source.validate(inputs[name])
            except ValueError as exc:
                raise DocsError(f"input {path} (source {name!r}): {exc}; produce it again "
                                f"with `{source.command(out_dir)}`") from None
        if source.plot is not None and not (out_dir / source.plot).is_file():
            raise DocsError(
                f"missing input {out_dir / source.plot} (source {name!r}): produce it with "
                f"`{source.command(out_dir)}`"
            )
    return inputs


def _provenance(source: Source, rel_dir: str) -> str:
    note = f" ({source.note})" if source.note else ""
    return f"*Source: `{source.command(Path(rel_dir))}`{note}.*"


def _table(table: Table, source: Source, data: Any, rel_dir: str) -> str:
    rows: list[Any] = []
    for path in (table.rows,) if isinstance(table.rows, str) else table.rows:
        try:
            found = lookup(data, path)
        except KeyError as exc:
            raise DocsError(f"table {table.name!r}: {exc.args[0]} in {source.json}") from None
        if isinstance(found, list):
            rows.extend(found)
        elif isinstance(table.rows, tuple) and isinstance(found, Mapping):
            rows.append(found)
        else:
            raise DocsError(f"table {table.name!r}: {path!r} in {source.json} is not a list")
    chosen = [r for r in rows
              if all(str(r.get(k)) == str(v) for k, v in table.where.items())]
    if not chosen:
        raise DocsError(f"table {table.name!r}: no row of {table.rows!r} in {source.json} "
                        f"matches {dict(table.where)}")
    lines = [_row(table.name, table.columns, row, source) for row in chosen]
    return _markdown_table(table.caption, table.columns, lines,
                           [_provenance(source, rel_dir)])


def _row(name: str, columns: Sequence[Column], row: Any, source: Source) -> str:
    cells = []
    for column in columns:
        try:
            value = lookup(row, column.path)
        except KeyError as exc:
            raise DocsError(f"table {name!r}, column {column.header!r}: "
                            f"{exc.args[0]} in {source.json}") from None
        cells.append(format_value(value, column.fmt))
    return "| " + " | ".join(cells) + " |"


def _markdown_table(caption: str, columns: Sequence[Column], rows: Sequence[str],
                    provenance: Sequence[str]) -> str:
    head = ["| " + " | ".join(c.header for c in columns) + " |",
            "|" + "|".join("---:" if c.align == "right" else "---" for c in columns) + "|"]
    title = [f"**{caption}**", ""] if caption else []
    return "\n".join([*title, *head, *rows, "", *provenance])


def _source_table(table: SourceTable, spec: DocSpec, inputs: Mapping[str, Any],
                  rel_dir: str) -> str:
    rows, provenance = [], []
    for name in table.sources:
        if name not in inputs:
            raise DocsError(f"{table.name!r} needs source {name!r}, which was not loaded")
        source = spec.source(name)
        rows.append(_row(table.name, table.columns, inputs[name], source))
        provenance.append(_provenance(source, rel_dir))
    return _markdown_table(table.caption, table.columns, rows, ["<br>".join(provenance)])


def _figure(figure: Figure, source: Source, rel_dir: str) -> str:
    if source.plot is None:
        raise DocsError(f"figure {figure.name!r}: source {source.name!r} writes no plot")
    return f"![{figure.caption}]({rel_dir}/{source.plot})\n\n{_provenance(source, rel_dir)}"


def _value(value: Value, source: Source, data: Any) -> str:
    try:
        return format_value(lookup(data, value.path), value.fmt)
    except KeyError as exc:
        raise DocsError(f"value {value.name!r}: {exc.args[0]} in {source.json}") from None


def _known_source(spec: DocSpec, name: str) -> Source:
    if name not in {s.name for s in spec.sources}:
        raise DocsError(f"the template names source {name!r}, which the spec does not define")
    return spec.source(name)


def _derived(derived: Derived, inputs: Mapping[str, Any]) -> str:
    missing = [name for name in derived.sources if name not in inputs]
    if missing:
        raise DocsError(f"{derived.name!r} needs source {missing[0]!r}, which was not loaded")
    try:
        return derived.compute(*(inputs[name] for name in derived.sources))
    except (KeyError, IndexError, TypeError) as exc:
        raise DocsError(f"value {derived.name!r}: {exc!r} in the JSON of "
                        f"{', '.join(derived.sources)}") from None


def needed_sources(template: str, spec: DocSpec) -> list[str]:
    """The sources the template's markers read, in the spec's order; DocsError on unknowns."""
    used: set[str] = set()
    for kind, name in _TABLE.findall(template):
        if kind == "source":
            used.add(_known_source(spec, name).name)
        else:
            used.update(_sources_of(
                spec.item(name, (Table, SourceTable) if kind == "table" else Figure)))
    for name in _VALUE.findall(template):
        used.update(_sources_of(spec.item(name, (Value, Derived))))
    return [s.name for s in spec.sources if s.name in used]


def _include(match: re.Match[str], root: Path) -> str:
    path = root / match.group(1)
    try:
        text = path.read_text(encoding="utf-8")
    except OSError:
        raise DocsError(f"the template includes {match.group(1)}, which is missing "
                        f"(looked in {root})") from None
    lang = {".yaml": "yaml", ".yml": "yaml", ".json": "json", ".c": "c", ".h": "c"}.get(
        path.suffix, "")
    return f"`{match.group(1)}`:\n\n```{lang}\n{text.rstrip()}\n```"


def render_template(template: str, spec: DocSpec, inputs: Mapping[str, Any],
                    rel_dir: str = "design", root: Path = Path(".")) -> str:
    """Replace every marker in ``template`` from ``inputs`` (source name -> parsed JSON).

    ``rel_dir`` is the output folder as seen from the rendered document, for
    figure links and provenance lines; ``root`` is where included paths start.
    """
    def source_data(item: Table | Figure | Value) -> tuple[Source, Any]:
        if item.source not in inputs:
            raise DocsError(f"{item.name!r} needs source {item.source!r}, which was not loaded")
        return spec.source(item.source), inputs[item.source]

    def block(match: re.Match[str]) -> str:
        kind, name = match.groups()
        if kind == "source":
            return _provenance(_known_source(spec, name), rel_dir)
        if kind == "table":
            table = spec.item(name, (Table, SourceTable))
            if isinstance(table, SourceTable):
                return _source_table(table, spec, inputs, rel_dir)
            assert isinstance(table, Table)
            source, data = source_data(table)
            return _table(table, source, data, rel_dir)
        figure = spec.item(name, Figure)
        assert isinstance(figure, Figure)
        source, _ = source_data(figure)
        return _figure(figure, source, rel_dir)

    def inline(match: re.Match[str]) -> str:
        value = spec.item(match.group(1), (Value, Derived))
        if isinstance(value, Derived):
            return _derived(value, inputs)
        assert isinstance(value, Value)
        source, data = source_data(value)
        return _value(value, source, data)

    expanded = _VALUE.sub(inline, _TABLE.sub(block, template))
    return _INCLUDE.sub(lambda m: _include(m, root), expanded)
