"""The document build: markers rendered from JSON, and loud failures naming what is missing.

Fast: small fake sources and templates in a temporary folder; the only
subprocesses are two ``auctioneer`` invocations that fail or write nothing.
The last tests check that the real template and spec agree (every marker in
``docs/design.template.md`` is defined) and that ``make docs`` exists.
"""

from __future__ import annotations

import json
from pathlib import Path

import pytest
from tools.docs import (
    DESIGN_SPEC,
    DOCUMENTS,
    Column,
    Derived,
    DocsError,
    DocSpec,
    Figure,
    Source,
    SourceTable,
    Table,
    Value,
    build,
    build_documents,
    load_inputs,
    lookup,
    render_template,
    run_sources,
)
from tools.docs.render import needed_sources

ROOT = Path(__file__).resolve().parents[1]

SPEC = DocSpec(
    sources=(
        Source("fast", ("bench", "fast", "--json", "{json}", "--plot", "{plot}"), "fast.json",
               "fast.png", note="--quick"),
        Source("a", ("sim", "a", "--out", "{dir}/a"), "a/m.json"),
        Source("b", ("sim", "b", "--out", "{dir}/b"), "b/m.json"),
    ),
    items=(
        Table("lat", "fast", "rows", (Column("name", "name", align="left"),
                                      Column("p99", "ns.p99", "{:.0f}")),
              where={"n": 1000}, caption="Latency"),
        Figure("plot", "fast", "the plot"),
        Value("best", "fast", "rows[name=tier,n=1000].ns.p99", "{:.1f}"),
        Value("none", "fast", "rows[name=heapq,n=1000].c.p99", "{:.1f}"),
        SourceTable("both", ("a", "b"), (Column("scenario", "name", align="left"),
                                         Column("eff", "eff", "{:.2f}"))),
    ),
)

FAST = {"rows": [
    {"name": "tier", "n": 1000, "ns": {"p99": 41.62}, "c": {"p99": 3.0}},
    {"name": "heapq", "n": 1000, "ns": {"p99": 2159.0}, "c": None},
    {"name": "tier", "n": 10, "ns": {"p99": 35.0}, "c": {"p99": 3.0}},
]}


def _write_inputs(out: Path, fast: object = FAST) -> None:
    (out / "a").mkdir(parents=True)
    (out / "b").mkdir()
    (out / "fast.json").write_text(json.dumps(fast))
    (out / "fast.png").write_bytes(b"\x89PNG")
    (out / "a" / "m.json").write_text(json.dumps({"name": "steady", "eff": 0.93}))
    (out / "b" / "m.json").write_text(json.dumps({"name": "hot", "eff": 0.81}))


def test_renders_every_kind_of_marker(tmp_path: Path) -> None:
    inputs = {"fast": FAST, "a": {"name": "steady", "eff": 0.93}, "b": {"name": "hot", "eff": 0.8}}
    text = render_template(
        "p99 is {{best}} ns, C: {{ none }}\n<!-- table: lat -->\n<!-- figure: plot -->\n"
        "<!-- table: both -->\n",
        SPEC, inputs, rel_dir="design")
    assert "p99 is 41.6 ns, C: –" in text
    assert "**Latency**" in text
    assert "| tier | 42 |" in text and "| heapq | 2159 |" in text
    assert "| tier | 35 |" not in text  # filtered out by where n=1000
    assert "![the plot](design/fast.png)" in text
    assert "*Source: `auctioneer bench fast --json design/fast.json --plot design/fast.png` " \
           "(--quick).*" in text
    assert "| steady | 0.93 |" in text and "| hot | 0.80 |" in text
    assert "`auctioneer sim a --out design/a`" in text
    assert "<!--" not in text and "{{" not in text


def test_derived_figures_source_lines_and_tables_over_several_paths() -> None:
    """A figure computed from two sources, a source's command line under a hand-laid
    table, and one table over a list and an object (the empty path is the whole row)."""
    spec = DocSpec(SPEC.sources, (
        Derived("ratio", ("a", "b"), lambda a, b: f"{a['eff'] / b['eff']:.2f}×"),
        Derived("broken", ("a",), lambda a: a["missing"]),
        Table("runs", "fast", ("base", "rows"), (
            Column("name", "name", align="left"),
            Column("p99 / base", "", lambda r: f"{r['ns']['p99'] / 40:.1f}"))),
    ))
    inputs = {"fast": {**FAST, "base": {"name": "base", "ns": {"p99": 40.0}}},
              "a": {"eff": 0.9}, "b": {"eff": 0.6}}
    text = render_template("{{ratio}}\n<!-- source: b -->\n<!-- table: runs -->\n", spec,
                           inputs)
    assert text.startswith("1.50×\n*Source: `auctioneer sim b --out design/b`.*\n")
    assert "| base | 1.0 |" in text and "| heapq | 54.0 |" in text
    with pytest.raises(DocsError, match="value 'broken'.*'missing'"):
        render_template("{{broken}}", spec, inputs)
    with pytest.raises(DocsError, match="source 'nope'"):
        render_template("<!-- source: nope -->", spec, inputs)
    assert needed_sources("{{ratio}} <!-- x -->\n<!-- source: fast -->", spec) == [
        "fast", "a", "b"]


def test_build_renders_from_files_and_includes(tmp_path: Path) -> None:
    out = tmp_path / "design"
    _write_inputs(out)
    (tmp_path / "scenario.yaml").write_text("tick_hz: 1000\n")
    template = tmp_path / "doc.template.md"
    template.write_text("# Doc\n\n{{best}}\n\n<!-- include: scenario.yaml -->\n")
    report = build(template, tmp_path / "doc.md", SPEC, out, run=False, say=lambda _: None,
                   root=tmp_path)
    text = report.output.read_text()
    assert text.startswith("<!-- Generated by `make docs`")
    assert "41.6" in text and "```yaml\ntick_hz: 1000\n```" in text
    assert report.ran == ()


def test_missing_input_names_file_and_command(tmp_path: Path) -> None:
    template = tmp_path / "t.md"
    template.write_text("<!-- table: lat -->\n")
    with pytest.raises(DocsError) as err:
        build(template, tmp_path / "d.md", SPEC, tmp_path / "design", run=False,
              say=lambda _: None)
    message = str(err.value)
    assert "missing input" in message and "fast.json" in message
    assert "`auctioneer bench fast --json" in message


def test_missing_plot_is_an_error(tmp_path: Path) -> None:
    out = tmp_path / "design"
    _write_inputs(out)
    (out / "fast.png").unlink()
    template = tmp_path / "t.md"
    template.write_text("<!-- figure: plot -->\n")
    with pytest.raises(DocsError, match=r"missing input .*fast\.png"):
        build(template, tmp_path / "d.md", SPEC, out, run=False, say=lambda _: None)


@pytest.mark.parametrize(("template", "match"), [
    ("<!-- table: nope -->\n", "'nope', which the spec does not define"),
    ("{{ghost}}", "'ghost', which the spec does not define"),
    ("<!-- include: no/such.yaml -->\n", "includes no/such.yaml, which is missing"),
])
def test_unknown_markers_fail(tmp_path: Path, template: str, match: str) -> None:
    out = tmp_path / "design"
    _write_inputs(out)
    path = tmp_path / "t.md"
    path.write_text(template)
    with pytest.raises(DocsError, match=match):
        build(path, tmp_path / "d.md", SPEC, out, run=False, say=lambda _: None, root=tmp_path)


def test_missing_key_names_item_and_path(tmp_path: Path) -> None:
    out = tmp_path / "design"
    _write_inputs(out, fast={"rows": [{"name": "tier", "n": 1000}]})
    path = tmp_path / "t.md"
    path.write_text("{{best}}")
    with pytest.raises(DocsError, match=r"value 'best'.*no key 'ns'.*fast\.json"):
        build(path, tmp_path / "d.md", SPEC, out, run=False, say=lambda _: None)


def test_failing_command_is_named(tmp_path: Path) -> None:
    spec = DocSpec((Source("gone", ("bench", "no-such-bench", "--json", "{json}"), "g.json"),),
                   (Value("g", "gone", "x"),))
    with pytest.raises(DocsError) as err:
        run_sources(spec, tmp_path, ["gone"], say=lambda _: None)
    assert "`auctioneer bench no-such-bench --json" in str(err.value)
    assert "failed with exit 2" in str(err.value)


def test_command_that_writes_nothing_is_an_error(tmp_path: Path) -> None:
    spec = DocSpec((Source("quiet", ("--version",), "q.json"),), (Value("q", "quiet", "x"),))
    with pytest.raises(DocsError, match=r"did not write .*q\.json"):
        run_sources(spec, tmp_path, ["quiet"], say=lambda _: None)


def test_spec_refuses_duplicates_and_unknown_sources() -> None:
    source = Source("s", ("x",), "s.json")
    with pytest.raises(DocsError, match="duplicate source"):
        DocSpec((source, source), ())
    with pytest.raises(DocsError, match="unknown source 't'"):
        DocSpec((source,), (Value("v", "t", "x"),))


def test_lookup_selects_and_reports() -> None:
    data = {"rows": [{"k": "a b", "v": 1}, {"k": 2, "v": 3}]}
    assert lookup(data, "rows[k=a b].v") == 1
    assert lookup(data, "rows[k=2].v") == 3
    with pytest.raises(KeyError, match="no element"):
        lookup(data, "rows[k=9].v")
    with pytest.raises(KeyError, match="not a list"):
        lookup({"rows": {}}, "rows[k=1].v")


def test_the_tick_benchmark_is_read_through_its_record(tmp_path: Path) -> None:
    tick = DESIGN_SPEC.source("bench-tick")
    row = {"structure": "TierBook", "n": 1000, "bytes_per_agent": 24.0,
           "from_python_ns": {"tick": {"p50": 150, "p99": 211}}}
    (tmp_path / tick.json).write_text(json.dumps({"results": [row]}))
    (tmp_path / str(tick.plot)).write_bytes(b"\x89PNG")
    # Validated: ints where the record wants floats are widened, absent optionals are null.
    record = load_inputs(DESIGN_SPEC, tmp_path, ["bench-tick"])["bench-tick"]
    assert lookup(record, "results[n=1000].from_python_ns.tick.p99") == 211.0
    assert lookup(record, "results[n=1000].in_c_ns.tick.p99") is None
    (tmp_path / tick.json).write_text(json.dumps({"results": [{**row, "n": 0}]}))
    with pytest.raises(DocsError, match=r"bench-tick\.json .*TierBook at n=0: n is 0.*"
                                        r"`auctioneer bench tick --json"):
        load_inputs(DESIGN_SPEC, tmp_path, ["bench-tick"])


def test_design_template_and_spec_agree() -> None:
    """Every marker in the real templates is defined, and every source it needs exists."""
    for name, _ in DOCUMENTS:
        needed_sources((ROOT / "docs" / name).read_text(encoding="utf-8"), DESIGN_SPEC)
    template = (ROOT / "docs" / "design.template.md").read_text(encoding="utf-8")
    needed = needed_sources(template, DESIGN_SPEC)
    assert needed[0] == "bench-tick"
    assert {"bpf", "bench-ring", "bench-thermal", "incentives"} <= set(needed)
    assert "## Appendix E. Requirements traceability" in template


def test_every_document_is_rendered_from_the_committed_set(tmp_path: Path) -> None:
    """The committed documents are what the templates render from ``docs/design/`` now:
    one measurement set, and no document quoting another run or edited by hand."""
    docs = ROOT / "docs"
    outputs = [(docs / t, tmp_path / o) for t, o in DOCUMENTS]
    build_documents(outputs, DESIGN_SPEC, docs / "design", run=False, say=lambda _: None,
                    root=ROOT)
    for (_, rendered), (_, committed) in zip(outputs, DOCUMENTS, strict=True):
        # The provenance lines name the folder as seen from the document.
        text = rendered.read_text(encoding="utf-8").replace(
            (docs / "design").resolve().as_posix(), "design")
        assert text == (docs / committed).read_text(encoding="utf-8"), (
            f"docs/{committed} is stale: run `python -m tools.docs build --render-only`")


def test_one_measurement_set() -> None:
    """Every source's files are in docs/design/, and no measurement sits beside it."""
    design = ROOT / "docs" / "design"
    for source in DESIGN_SPEC.sources:
        for name in (source.json, source.plot):
            assert name is None or (design / name).is_file(), (source.name, name)
    assert sorted(p.name for p in (ROOT / "docs").glob("*.json")) == ["clearing.schema.json"]
    assert sorted(p.name for p in (ROOT / "docs").glob("*.png")) == ["dashboard.png"]


def test_only_runs_a_source_no_template_quotes(tmp_path: Path) -> None:
    (tmp_path / "t.md").write_text("{{best}}")
    _write_inputs(tmp_path / "design")
    spec = DocSpec((*SPEC.sources, Source("quiet", ("--version",), "q.json")), SPEC.items)
    with pytest.raises(DocsError, match=r"\(source 'quiet'\) did not write"):
        build(tmp_path / "t.md", tmp_path / "d.md", spec, tmp_path / "design",
              only=["quiet"], say=lambda _: None)


def test_make_has_a_docs_target() -> None:
    makefile = (ROOT / "Makefile").read_text(encoding="utf-8")
    assert "\ndocs:" in makefile and "-m tools.docs build" in makefile
