"""``skywarden evaluate`` (tracks against truth, or a scenario's warnings) and
``skywarden evaluate-classifier``."""

from __future__ import annotations

import argparse
import json
from pathlib import Path

from skywarden.cli.files import default_shared_data, ensure_parent
from skywarden.errors import ConfigError, InputError


def add_parsers(sub: argparse._SubParsersAction) -> None:
    """Add the ``evaluate`` and ``evaluate-classifier`` commands."""
    ev = sub.add_parser("evaluate", help="GOSPA and track metrics of tracks against truth")
    ev.add_argument("--truth", type=Path)
    ev.add_argument("--tracks", type=Path)
    ev.add_argument("--json", action="store_true", help="print JSON instead of a table")
    ev.add_argument("--plot", type=Path, help="write truth, tracks and GOSPA to this PNG")
    add_gospa_options(ev)
    ev.set_defaults(run=cmd_evaluate)

    ev.add_argument(
        "--scenario",
        help="instead of files: run the full pipeline on a simulated scenario "
        "and print the warning metrics (lead time per drone, missed drones, false alerts/h)",
    )
    ev.add_argument("--seed", type=int, default=1)
    ev.add_argument(
        "--seeds", help="A-B: run seeds A..B and report per threat class (with --scenario)"
    )
    ev.add_argument("--jobs", type=int, default=1, help="parallel processes for --seeds")
    ev.add_argument(
        "--decision-confidence", default=None,
        help="with --seeds: one value or a comma list (the trade-off PNG); default the site's",
    )  # fmt: skip
    ev.add_argument("--out", type=Path, help="with --seeds: folder for report.json/.md and PNG")

    evc = sub.add_parser(
        "evaluate-classifier",
        help="confusion matrix, balanced accuracy, calibration (ECE) and a reliability diagram",
    )
    evc.add_argument("--data", type=Path, default=default_shared_data(), help="../shared/data")
    evc.add_argument("--plot", type=Path, default=Path("out/reliability.png"))
    evc.add_argument("--json", action="store_true")
    evc.set_defaults(run=_cmd_evaluate_classifier)


def add_gospa_options(p: argparse.ArgumentParser) -> None:
    p.add_argument("--c", type=float, default=50.0, help="GOSPA cut-off distance, m")
    p.add_argument("--p", type=float, default=2.0, help="GOSPA order")
    p.add_argument("--alpha", type=float, default=2.0, help="GOSPA alpha (2 splits the parts)")


def cmd_evaluate(args: argparse.Namespace) -> int:
    from skywarden.evaluate.metrics import evaluate
    from skywarden.evaluate.report import plot, print_summary, summary
    from skywarden.tables import read_tracks, read_truth

    if getattr(args, "scenario", None):
        return _evaluate_scenario_warnings(args)
    if args.truth is None or args.tracks is None:
        raise ConfigError("evaluate needs --truth and --tracks (or --scenario NAME)")
    truth = read_truth(args.truth)
    tracks = read_tracks(args.tracks)
    result = evaluate(truth, tracks, c=args.c, p=args.p, alpha=args.alpha)
    data = summary(result)
    if args.plot is not None:
        ensure_parent(args.plot)
        plot(truth, tracks, result.series, args.plot)
        data["plot"] = str(args.plot)
    if args.json:
        print(json.dumps(data, indent=2))
    else:
        print_summary(data)
    return 0


def _evaluate_scenario_warnings(args: argparse.Namespace) -> int:
    from skywarden.evaluate.warning import evaluate_scenario_warnings, print_warning_report

    if args.seeds:
        from skywarden.evaluate.warning_seeds import evaluate_seeds_command

        return evaluate_seeds_command(args.scenario, args.seeds, args.jobs,
                                      args.decision_confidence, args.out, args.json)  # fmt: skip
    report = evaluate_scenario_warnings(args.scenario, args.seed)
    if args.json:
        print(json.dumps(report, indent=2, default=str))
    else:
        print_warning_report(report)
    return 0


def _cmd_evaluate_classifier(args: argparse.Namespace) -> int:
    from skywarden.classify.evaluation import evaluate_classifier, format_report

    if not args.data.is_dir():
        raise InputError(
            "the real recordings folder (../shared/data) is missing", path=str(args.data)
        )
    ensure_parent(args.plot)
    report = evaluate_classifier(args.plot, args.data)
    print(json.dumps(report, indent=2, default=str) if args.json else format_report(report))
    return 0
