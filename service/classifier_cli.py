"""`complaints classifier train | evaluate | predict`: a contract other tools depend on exactly."""

from __future__ import annotations

import json
import sys
from pathlib import Path
from typing import TYPE_CHECKING, Annotated, Any

import typer

if TYPE_CHECKING:
    from routing.corrections import DepartmentLabels

app = typer.Typer(no_args_is_help=True, help="Train, evaluate and try the department classifier.")

Csv = Annotated[Path | None, typer.Option("--data", help="UTF-8 CSV with a header row")]
TextColumn = Annotated[str, typer.Option("--text-column", help="column holding the text")]
LabelColumn = Annotated[str, typer.Option("--label-column", help="column holding the department")]


class _Bar:
    """A tqdm bar per training step, on stderr; all closed on leaving, so that an error's
    message is the last line, not a bar tqdm redraws at exit."""

    def __init__(self) -> None:
        self.bars: dict[str, Any] = {}

    def __enter__(self) -> _Bar:
        return self

    def __exit__(self, *exc: object) -> None:
        for bar in self.bars.values():
            bar.close()

    def __call__(self, step: str, done: int, total: int) -> None:
        from tqdm import tqdm

        bar = self.bars.get(step)
        if bar is None:
            bar = self.bars[step] = tqdm(total=total, desc=step, file=sys.stderr, leave=True)
        bar.n = done
        bar.refresh()
        if done >= total:
            bar.close()


@app.command()
def train(
    out: Annotated[Path, typer.Option("--out", help="where to write the model file")],
    data: Csv = None,
    text_column: TextColumn = "text",
    label_column: LabelColumn = "label",
    from_db: Annotated[
        bool, typer.Option("--from-db", help="add staff's routing corrections as examples")
    ] = False,
    target_precision: Annotated[
        float, typer.Option(min=0.01, max=1.0, help="precision the abstention threshold aims for")
    ] = 0.9,
    seed: int = 0,
) -> None:
    """Train on a CSV, on the deployment's own corrections (--from-db), or both."""
    from classifiers.dataset import read_labelled_csv, require_several_classes
    from classifiers.linear import writable_model_path
    from classifiers.training import train as fit
    from core.errors import InvalidInput

    writable_model_path(out)  # before minutes of training, not after
    texts: list[str] = []
    labels: list[str] = []
    aliases: dict[str, str] | None = None
    if data is not None:
        rows = read_labelled_csv(data, text_column, label_column, for_training=True)
        texts, labels = list(rows.texts), list(rows.labels)
        if rows.skipped_rows:
            typer.echo(f"skipped {rows.skipped_rows} rows without text or label", err=True)
    if from_db:
        db_texts, mapped = _examples_from_db(labels)
        typer.echo(f"{len(db_texts)} labelled examples from staff corrections", err=True)
        if mapped.unknown:
            typer.echo(
                f"{len(mapped.unknown)} labels name no active department of the registry, "
                f"kept as they are (routing sends their predictions to triage): "
                f"{', '.join(mapped.unknown[:10])}{' …' if len(mapped.unknown) > 10 else ''}",
                err=True,
            )
        texts, labels, aliases = texts + db_texts, mapped.labels, mapped.registry
    if data is None and not from_db:
        raise InvalidInput("give --data CSV, --from-db, or both")
    require_several_classes(labels)
    with _Bar() as bar:
        model = fit(
            texts,
            labels,
            seed=seed,
            target_precision=target_precision,
            progress=bar,
            label_aliases=aliases,
        )
    model.save(out)
    metrics = model.metadata["validation"]
    typer.echo(
        f"model written to {out}: {len(model.labels)} departments, {len(texts)} examples; "
        f"cross-validated accuracy {metrics['accuracy']:.3f}, "
        f"top-3 {metrics['top3_accuracy']:.3f}, threshold {model.threshold:.3f}"
    )


def _examples_from_db(csv_labels: list[str]) -> tuple[list[str], DepartmentLabels]:
    """The corrections' texts, and every label (the CSV's, then theirs) as a department code."""
    from sqlalchemy.exc import SQLAlchemyError

    import schemas  # noqa: F401
    from core.db import session_scope
    from core.errors import InvalidInput
    from routing.corrections import department_labels, labelled_examples

    try:
        with session_scope() as session:
            examples = labelled_examples(session)
            mapped = department_labels(session, csv_labels + [label for _, label in examples])
    except SQLAlchemyError as exc:
        raise InvalidInput(
            "--from-db: the database is not reachable or not migrated "
            f"({type(exc).__name__}: {str(exc.args[0] if exc.args else exc).splitlines()[0]}); "
            "check COMPLAINTS_DATABASE_URL and run `complaints db upgrade`"
        ) from exc
    return [t for t, _ in examples], mapped


@app.command()
def evaluate(
    model: Annotated[Path, typer.Option("--model", help="a model file from `train`")],
    data: Annotated[Path, typer.Option("--data", help="UTF-8 CSV with a header row")],
    text_column: TextColumn = "text",
    label_column: LabelColumn = "label",
    as_json: Annotated[bool, typer.Option("--json", help="print one JSON object")] = False,
) -> None:
    """Metrics on labelled data; rows whose label the model never saw count as errors."""
    from classifiers.dataset import read_labelled_csv
    from classifiers.linear import LinearClassifier
    from classifiers.training import evaluate as measure

    loaded = LinearClassifier.load(model)
    rows = read_labelled_csv(data, text_column, label_column)
    result = measure(loaded, rows.texts, rows.labels)
    if as_json:
        typer.echo(json.dumps(result, ensure_ascii=False))
        return
    for key, value in result.items():
        typer.echo(f"{key:>24}: {value:.4f}" if isinstance(value, float) else f"{key:>24}: {value}")


@app.command()
def predict(
    text: Annotated[str, typer.Argument(help="the complaint's text")],
    model: Annotated[Path, typer.Option("--model", help="a model file from `train`")],
) -> None:
    """The top 3 departments with confidence and the terms that drove each."""
    from classifiers.linear import LinearClassifier

    loaded = LinearClassifier.load(model)
    prediction = loaded.predict(text)
    for rank, suggestion in enumerate(prediction.top, start=1):
        reasons = "、".join(suggestion.reasons)
        typer.echo(f"{rank}. {suggestion.label}  {suggestion.score:.3f}  （{reasons}）")
    best = prediction.best
    if best is None or best.score < loaded.threshold:
        typer.echo(f"below the threshold {loaded.threshold:.3f}: would go to triage")
