"""``python -m tools.docs``: build the documents from the project's own commands.

Build tooling, not part of the installed package: it reads the checkout
(``kernel/``, ``examples/``, ``docs/``). ``make docs`` runs ``build``.
"""

from __future__ import annotations

import tempfile
from pathlib import Path
from typing import Annotated

import typer

from auctioneer.cli.options import JsonOption, output_dir_option, output_option

__all__ = ["docs_app", "docs_bpf", "docs_build"]

docs_app = typer.Typer(
    name="python -m tools.docs",
    help="Build the design document from the project's commands.", no_args_is_help=True,
    add_completion=False, pretty_exceptions_enable=False,
)


def _fail(exc: Exception) -> typer.Exit:
    typer.echo(f"tools.docs: error: {exc}", err=True)
    return typer.Exit(1)


@docs_app.command("build")
def docs_build(
    render_only: Annotated[
        bool, typer.Option("--render-only",
                           help="Run no command: render from the JSON already written.")
    ] = False,
    only: Annotated[
        str | None,
        typer.Option(help="Run only these sources (comma-separated); render from all.",
                     show_default=False),
    ] = None,
    template: Annotated[
        Path | None, typer.Option(help="One template to render [default: every document in "
                                  "tools/docs/design.py's DOCUMENTS].", dir_okay=False,
                                  show_default=False)] = None,
    output: Annotated[Path | None, output_option(
        text="The document to write (with --template).", show_default=False)] = None,
    out_dir: Annotated[Path, output_dir_option(text="Where the commands write JSON and PNG.")
                       ] = Path("docs/design"),
) -> None:
    """Run every command the documents quote, then render them from their JSON.

    Fails, naming the command or the file, when a command fails or an input
    is missing: a document never keeps a stale number silently.
    """
    from tools.docs import DESIGN_SPEC, DOCUMENTS, DocsError, build_documents

    if (template is None) != (output is None):
        raise _fail(DocsError("--template and --output go together"))
    documents = ([(Path("docs") / t, Path("docs") / o) for t, o in DOCUMENTS]
                 if template is None or output is None else [(template, output)])
    chosen = None if only is None else [s.strip() for s in only.split(",") if s.strip()]
    try:
        build_documents(documents, DESIGN_SPEC, out_dir, run=not render_only, only=chosen,
                        say=lambda line: typer.echo(line, err=True))
    except DocsError as exc:
        raise _fail(exc) from None


@docs_app.command("bpf")
def docs_bpf(
    json_path: JsonOption = None,
    kernel: Annotated[str, typer.Option(help="Kernel API: 6.13 (and later) or 6.12.")] = "6.13",
) -> None:
    """Build the sched_ext prototype (kernel/) and report its programs' sizes and kfuncs."""
    from auctioneer.cli.options import one_of
    from auctioneer.measure.record import write_json
    from tools.docs import DocsError, bpf_facts

    kernel = one_of(kernel, "--kernel", ("6.12", "6.13"))
    try:
        with tempfile.TemporaryDirectory() as tmp:
            facts = bpf_facts(Path(tmp), kernel=kernel)
    except DocsError as exc:
        raise _fail(exc) from None
    for program in facts["programs"]:
        typer.echo(f"{program['callback']:<12} {program['instructions']:>5} instructions  "
                   f"{program['section']}")
    typer.echo(f"kfuncs: {', '.join(facts['kfuncs'])}")
    typer.echo(f"total: {facts['total_instructions']} instructions")
    if json_path is not None:
        write_json(facts, json_path)
        typer.echo(f"wrote {json_path}")


if __name__ == "__main__":
    docs_app()
