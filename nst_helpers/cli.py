"""Command line: ``python -m nst_helpers {stylize,prefetch,samples,doctor}``.

A thin client of the library: every option maps to an argument of
:func:`nst_helpers.stylize`.
"""

from __future__ import annotations

import argparse
import sys
from pathlib import Path

from .errors import NSTError
from .images import DEFAULT_CONTENT, DEFAULT_STYLE, SAMPLES
from .model import CONTENT_LAYERS, STYLE_LAYERS
from .optimise import DEFAULTS, INITS, OPTIMIZERS


def _unique_path(path: Path) -> Path:
    if not path.exists():
        return path
    for index in range(1, 10_000):
        candidate = path.with_name(f"{path.stem}_{index}{path.suffix}")
        if not candidate.exists():
            return candidate
    raise NSTError(f"too many files named like {path}; pass -o")


def _label(source: str) -> str:
    return source if source in SAMPLES else Path(source).stem


def cmd_stylize(args) -> int:
    from .images import save_image
    from .optimise import stylize

    content = args.content or DEFAULT_CONTENT
    styles = (args.style or []) + (args.style_option or []) or [DEFAULT_STYLE]
    if args.output:
        output = Path(args.output)
    else:
        output = _unique_path(Path("outputs") / f"{_label(content)}_{'+'.join(_label(s) for s in styles)}.png")
    masks = [None if m.lower() == "rest" else m for m in (args.style_masks or [])] or None
    args.size = args.size or (args.stages[-1] if args.stages else DEFAULTS["size"])
    inputs = [Path(p) for p in [content, *styles, *(m for m in masks or [] if m)] if p not in SAMPLES]
    # Check the output before minutes of work, so a typo costs nothing.
    if output.is_dir():
        raise NSTError(f"output path {output} is a folder; give a file name such as {output / 'result.png'}")
    if any(output.resolve() == p.resolve() for p in inputs):
        raise NSTError(f"refusing to overwrite the input image {output}; choose another -o")
    if output.exists() and not args.overwrite:
        raise NSTError(f"{output} already exists; choose another -o or add --overwrite")
    print(f"content: {content}   style: {', '.join(styles)}   size: {args.size}px   "
          f"{args.optimizer} x {' + '.join(map(str, args.iterations))}", flush=True)
    result = stylize(
        content, styles if len(styles) > 1 else styles[0], size=args.size,
        iterations=args.iterations[0] if len(args.iterations) == 1 else args.iterations, stages=args.stages,
        optimizer=args.optimizer, content_weight=args.content_weight, style_weight=args.style_weight,
        tv_weight=args.tv_weight, content_layers=args.content_layers, style_layers=args.style_layers,
        style_weights=args.style_weights, style_scale=args.style_scale, init=args.init, pooling=args.pooling,
        seed=args.seed, progress=not args.quiet, preserve_color=args.preserve_color, style_masks=masks,
    )
    path = save_image(result.image, output, overwrite=args.overwrite, protect=inputs)
    if result.stopped:
        print(f"stopped early: {result.stopped}", file=sys.stderr)
    print(f"weights: {result.weights_source}")
    print(f"saved {path} ({result.image.shape[1]}x{result.image.shape[0]}) after {result.iterations} "
          f"iterations in {result.seconds:.1f} s (final loss {result.loss:.4g})")
    return 130 if result.stopped and "interrupted" in result.stopped else 0


def cmd_prefetch(args) -> int:
    from .images import sample_path
    from .weights import load_vgg19_weights

    _, source = load_vgg19_weights()
    print(f"VGG19 weights ready: {source}")
    for name in SAMPLES:
        print(f"sample {name:12s} {sample_path(name)}")
    print("Everything needed offline is cached.")
    return 0


def cmd_doctor(args) -> int:
    from .doctor import format_report, run_doctor

    report = run_doctor(smoke_seconds=args.smoke_seconds, smoke_size=args.smoke_size)
    print(format_report(report))
    return 0 if report["ok"] else 1


def cmd_samples(args) -> int:
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
    parser = argparse.ArgumentParser(prog="python -m nst_helpers", description=__doc__.splitlines()[0])
    sub = parser.add_subparsers(dest="command", required=True)
    st = sub.add_parser("stylize", help="paint a content image in the style of one or more style images")
    st.add_argument("content", nargs="?", help=f"content image path or sample name (default {DEFAULT_CONTENT})")
    st.add_argument("style", nargs="*", help=f"style image path(s) or sample name(s) (default {DEFAULT_STYLE})")
    st.add_argument("--style", dest="style_option", nargs="+", metavar="STYLE", help="style image(s), as an option")
    st.add_argument("-o", "--output", help="output PNG/JPEG (default outputs/CONTENT_STYLE.png, never overwritten)")
    st.add_argument("--overwrite", action="store_true", help="replace an existing output file (never an input)")
    st.add_argument("--size", type=int, help=f"long side of the result in pixels (default {DEFAULTS['size']}, "
                    "or the last of --stages)")
    st.add_argument("--iterations", type=int, nargs="+", default=[DEFAULTS["iterations"]],
                    help="iterations per stage (one number, or one per --stages size)")
    st.add_argument("--stages", type=int, nargs="+", metavar="SIZE",
                    help="coarse-to-fine sizes ending at --size, e.g. 512 1024 2048 (default: halve while over 512)")
    st.add_argument("--optimizer", choices=sorted(OPTIMIZERS), default=DEFAULTS["optimizer"])
    st.add_argument("--content-weight", type=float, default=DEFAULTS["content_weight"])
    st.add_argument("--style-weight", type=float, default=DEFAULTS["style_weight"])
    st.add_argument("--tv-weight", type=float, default=DEFAULTS["tv_weight"])
    st.add_argument("--style-weights", type=float, nargs="+", help="blend weights, one per style image")
    st.add_argument("--style-scale", type=float, default=1.0, help="style image size relative to content")
    st.add_argument("--preserve-color", choices=("luminance", "match"),
                    help="keep the content's colours: stylise the luminance only, or match the style's colours first")
    st.add_argument("--style-masks", nargs="+", metavar="MASK",
                    help="one mask image per style (white = this style, black = not); 'rest' = where no other mask is")
    st.add_argument("--content-layers", nargs="+", default=list(CONTENT_LAYERS))
    st.add_argument("--style-layers", nargs="+", default=list(STYLE_LAYERS))
    st.add_argument("--init", choices=INITS, default=DEFAULTS["init"])
    st.add_argument("--pooling", choices=("max", "avg"), default=DEFAULTS["pooling"])
    st.add_argument("--seed", type=int, default=DEFAULTS["seed"])
    st.add_argument("-q", "--quiet", action="store_true", help="no progress bar")
    st.set_defaults(func=cmd_stylize)
    pf = sub.add_parser("prefetch", help="cache the VGG19 weights and check the sample images (offline classroom)")
    pf.set_defaults(func=cmd_prefetch)
    sm = sub.add_parser("samples", help="list the bundled sample images and where their files are")
    sm.set_defaults(func=cmd_samples)
    dr = sub.add_parser("doctor", help="check this machine before a workshop: versions, GPU, weights, "
                        "samples, a timed smoke run and the series' run time")
    dr.add_argument("--smoke-seconds", type=float, default=10.0, help="length of the timed stylisation (0: skip)")
    dr.add_argument("--smoke-size", type=int, default=256, help="long side of the smoke run in pixels")
    dr.set_defaults(func=cmd_doctor)
    return parser


def main(argv=None) -> int:
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
