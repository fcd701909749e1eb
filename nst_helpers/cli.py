"""Command line: ``python -m nst_helpers {stylize,prefetch,samples,doctor}``.

A thin client of the library: the ``stylize`` flags are generated from the fields of
:class:`nst_helpers.settings.StyleSettings` (same names, ``_`` written ``-``; defaults and
choices read from there), and :func:`command_line` writes the line for a set of options.
"""

from __future__ import annotations

import argparse
import dataclasses
import shlex
import sys
from pathlib import Path

from .errors import NSTError, OptionError
from .files import check_output_path, unique_path
from .images import DEFAULT_CONTENT, DEFAULT_STYLE, SAMPLES
from .schedule import process_seconds
from .settings import StyleSettings

SAVE_SECONDS = 0.3  # kept back from --time-budget for writing the PNG (about 0.1 s at 512 px)

__all__ = ["flag", "add_settings_flags", "settings_options", "command_line", "cmd_stylize", "cmd_prefetch",
           "cmd_doctor", "cmd_samples", "build_parser", "main"]


def flag(name: str) -> str:
    """The command-line flag of a :class:`StyleSettings` field.

    Example: ``flag("style_layer_weights") == "--style-layer-weights"``.

    Args:
        name: the field's name.

    Returns:
        The flag.
    """
    return "--" + name.replace("_", "-")


def _key_value(text: str):
    """``KEY=VALUE`` of --optimizer-options; the value an int, a float or else the text."""
    key, sep, value = text.partition("=")
    if not sep or not key:
        raise argparse.ArgumentTypeError(f"expected KEY=VALUE, got {text!r}")
    for convert in (int, float):
        try:
            return key, convert(value)
        except ValueError:
            pass
    return key, value


def add_settings_flags(parser: argparse.ArgumentParser) -> None:
    """One flag per :class:`StyleSettings` field, its help, choices and default read from the field.

    Flags left out are absent from the parsed namespace, so stylize applies the
    settings' own defaults.

    Args:
        parser: the ``stylize`` sub-command's parser, changed in place.
    """
    for field in dataclasses.fields(StyleSettings):
        meta = field.metadata
        options = dict(dest=field.name, default=argparse.SUPPRESS, help=meta["help"])
        default = field.default
        if default is not None:
            shown = " ".join(map(str, default)) if isinstance(default, (list, tuple)) else default
            options["help"] += f" (default {shown})" if field.name != "size" else ""
        for key in ("choices", "nargs", "metavar"):
            if meta[key] is not None:
                options[key] = meta[key]
        if field.name == "optimizer_options":
            options["type"] = _key_value
        elif meta["cli_type"] is not None:
            options["type"] = meta["cli_type"]
        parser.add_argument(flag(field.name), **options)


def settings_options(args: argparse.Namespace) -> dict:
    """The stylize options given on the command line.

    Args:
        args: the parsed command line.

    Returns:
        ``{field: value}`` for the :class:`StyleSettings` fields that were given.
    """
    fields = dataclasses.fields(StyleSettings)
    options = {f.name: getattr(args, f.name) for f in fields if hasattr(args, f.name)}
    if "iterations" in options and len(options["iterations"]) == 1:
        options["iterations"] = options["iterations"][0]
    if "size" not in options and "stages" in options:
        options["size"] = options["stages"][-1]
    if "style_masks" in options:
        options["style_masks"] = [None if m.lower() == "rest" else m for m in options["style_masks"]]
    if "optimizer_options" in options:
        options["optimizer_options"] = dict(options["optimizer_options"])
    return options


def command_line(content: str | Path, style: str | Path | list, **options: object) -> str:
    """The ``python -m nst_helpers stylize ...`` line that runs ``stylize(content, style, **options)``.

    Example: ``command_line("chelsea", "swirl", size=256)``.

    Args:
        content: a file path or sample name.
        style: a file path or sample name, or a list of them.
        **options: ``stylize``'s options; those at their default are left out.

    Returns:
        The shell-quoted command line.

    Raises:
        OptionError: for an option the command line cannot express (an image array as
            ``init`` or a mask).
    """
    styles = list(style) if isinstance(style, (list, tuple)) else [style]
    words = ["python", "-m", "nst_helpers", "stylize", str(content), *map(str, styles)]
    for name, value in options.items():
        if name in ("callback", "progress", "frame_every"):
            continue
        if name not in StyleSettings._names():
            StyleSettings.from_options(**{name: value})  # raises the clear error
        if value is None or _same(value, StyleSettings.default(name)):
            continue
        if name == "style_masks":
            value = ["rest" if m is None else m for m in value]
        if name == "optimizer_options":
            value = [f"{k}={v}" for k, v in value.items()]
        values = list(value) if isinstance(value, (list, tuple)) else [value]
        if not all(isinstance(v, (str, int, float, Path)) for v in values):
            raise OptionError(f"{name} cannot be written on the command line (give file paths, not arrays)")
        words += [flag(name), *map(str, values)]
    return shlex.join(words)


def _same(value, default) -> bool:
    if isinstance(value, (list, tuple)) and isinstance(default, (list, tuple)):
        return list(value) == list(default)
    return isinstance(value, type(default)) and value == default


def _label(source: str) -> str:
    return source if source in SAMPLES else Path(source).stem


def cmd_stylize(args: argparse.Namespace) -> int:
    """``python -m nst_helpers stylize``: stylise, then save the result without overwriting anything.

    Args:
        args: the parsed command line.

    Returns:
        The exit status (0, or 130 when interrupted).
    """
    from . import optimise
    from .images import save_image

    content = args.content or DEFAULT_CONTENT
    styles = (args.style or []) + (args.style_option or []) or [DEFAULT_STYLE]
    options = settings_options(args)
    settings = StyleSettings.from_options(**options)  # a bad option fails here, before any work
    if args.output:
        output = Path(args.output)
    else:
        output = unique_path(Path("outputs") / f"{_label(content)}_{'+'.join(_label(s) for s in styles)}.png")
    masks = [m for m in settings.style_masks or [] if m is not None]
    inputs = [Path(p) for p in [content, *styles, *masks] if p not in SAMPLES]
    # Check the output before minutes of work, so a typo costs nothing.
    check_output_path(output, overwrite=args.overwrite, protect=inputs, other="another -o",
                      overwrite_hint="choose another -o or add --overwrite")
    given = options.get("iterations", StyleSettings.default("iterations"))
    counts = " + ".join(map(str, given if isinstance(given, list) else [given]))
    plan = f"{settings.optimizer} x {counts}"
    if settings.time_budget is not None:
        # The budget covers the whole command: what importing TensorFlow and checking took is spent
        # already, and writing the PNG comes after stylize.
        spent = process_seconds() + SAVE_SECONDS
        options["time_budget"] = max(settings.time_budget - spent, 1e-3)
        plan = f"{settings.optimizer}, stages {settings.stages}, time budget {settings.time_budget:g} s"
    print(f"content: {content}   style: {', '.join(styles)}   size: {settings.size}px   {plan}", flush=True)
    style = styles if len(styles) > 1 else styles[0]
    result = optimise.stylize(content, style, progress=not args.quiet, **options)
    path = save_image(result.image, output, overwrite=args.overwrite, protect=inputs)
    if result.stopped:
        print(f"stopped early: {result.stopped}", file=sys.stderr)
    print(f"weights: {result.weights_source}")
    print(f"saved {path} ({result.image.shape[1]}x{result.image.shape[0]}) after {result.iterations} "
          f"iterations in {result.seconds:.1f} s (final loss {result.loss:.4g})")
    return 130 if getattr(result.stopped, "reason", None) is optimise.StopReason.INTERRUPTED else 0


def cmd_prefetch(args: argparse.Namespace) -> int:
    """``python -m nst_helpers prefetch``: cache the weights and check the samples, for offline use.

    Args:
        args: the parsed command line.

    Returns:
        The exit status.
    """
    from .images import sample_path
    from .weights import load_vgg19_weights

    _, source = load_vgg19_weights()
    print(f"VGG19 weights ready: {source}")
    for name in SAMPLES:
        print(f"sample {name:12s} {sample_path(name)}")
    print("Everything needed offline is cached.")
    return 0


def cmd_doctor(args: argparse.Namespace) -> int:
    """``python -m nst_helpers doctor``: :func:`nst_helpers.doctor.run_doctor`, printed.

    Args:
        args: the parsed command line.

    Returns:
        The exit status (1 when something essential is missing).
    """
    from .doctor import format_report, run_doctor

    report = run_doctor(smoke_seconds=args.smoke_seconds, smoke_size=args.smoke_size)
    print(format_report(report))
    return 0 if report["ok"] else 1


def cmd_samples(args: argparse.Namespace) -> int:
    """``python -m nst_helpers samples``: list the bundled images and their files.

    Args:
        args: the parsed command line.

    Returns:
        The exit status (2 when a file is missing).
    """
    from .images import sample_path

    errors = []
    for name, sample in SAMPLES.items():
        try:
            where = str(sample_path(name))
        except NSTError as error:
            where = "(missing)"
            errors.append(error)
        print(f"{name:12s} {sample.kind:8s} {sample.title:35s} {where}")
    if errors:  # the first message says what is wrong and how to fix it
        print(f"error: {len(errors)} of {len(SAMPLES)} sample images missing; {errors[0]}", file=sys.stderr)
        return 2
    return 0


def build_parser() -> argparse.ArgumentParser:
    """The command line's parser, with its four sub-commands.

    Returns:
        The parser.
    """
    parser = argparse.ArgumentParser(prog="python -m nst_helpers", description=__doc__.splitlines()[0])
    sub = parser.add_subparsers(dest="command", required=True)
    st = sub.add_parser("stylize", help="paint a content image in the style of one or more style images")
    st.add_argument("content", nargs="?",
                    help=f"content image path or sample name (default {DEFAULT_CONTENT})")
    st.add_argument("style", nargs="*",
                    help=f"style image path(s) or sample name(s) (default {DEFAULT_STYLE})")
    st.add_argument("--style", dest="style_option", nargs="+", metavar="STYLE",
                    help="style image(s), as an option")
    st.add_argument("-o", "--output",
                    help="output PNG/JPEG (default outputs/CONTENT_STYLE.png, never overwritten)")
    st.add_argument("--overwrite", action="store_true",
                    help="replace an existing output file (never an input)")
    add_settings_flags(st)
    st.add_argument("-q", "--quiet", action="store_true", help="no progress bar")
    st.set_defaults(func=cmd_stylize)
    pf = sub.add_parser("prefetch",
                        help="cache the VGG19 weights and check the sample images (offline classroom)")
    pf.set_defaults(func=cmd_prefetch)
    sm = sub.add_parser("samples", help="list the bundled sample images and where their files are")
    sm.set_defaults(func=cmd_samples)
    dr = sub.add_parser("doctor", help="check this machine before a workshop: versions, GPU, weights, "
                        "samples, a timed smoke run and the series' run time")
    dr.add_argument("--smoke-seconds", type=float, default=10.0,
                    help="length of the timed stylisation (0: skip)")
    dr.add_argument("--smoke-size", type=int, default=256, help="long side of the smoke run in pixels")
    dr.set_defaults(func=cmd_doctor)
    return parser


def main(argv: list[str] | None = None) -> int:
    """``python -m nst_helpers``: parse, run the sub-command, report a clear error.

    Args:
        argv: the arguments (default: ``sys.argv[1:]``).

    Returns:
        The exit status: 0, 1 (doctor: not ready), 2 (a bad input, with its message) or
        130 (interrupted).
    """
    args = build_parser().parse_args(argv)
    try:
        return args.func(args)
    except NSTError as error:
        print(f"error: {error}", file=sys.stderr)
        return 2
    except KeyboardInterrupt:
        print("interrupted", file=sys.stderr)
        return 130


if __name__ == "__main__":  # pragma: no cover
    sys.exit(main())
