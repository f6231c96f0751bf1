"""``python -m helpers <command>``: the command-line face of the package.

Commands: synth, contact-sheet, data-report, train-vae, train-gan, train-diffusion, generate, evaluate,
export-reference.
Valence and arousal are 1-9 on the command line, as everywhere a person sees them.
"""

import argparse
import json
import sys
from pathlib import Path

from helpers.config import PRESETS
from helpers.data.labels import LabelError


def _add_data_arguments(parser):
    parser.add_argument("--images", required=True, help="folder of <id>.jpg (or .jpeg/.png/.webp) images")
    parser.add_argument("--labels", help="CSV with header image,valence,arousal (ratings 1-9)")
    parser.add_argument("--valence-file", help="raw form: one valence rating per line, line N for N.jpg")
    parser.add_argument("--arousal-file", help="raw form: one arousal rating per line")
    parser.add_argument("--id-column", default="image")
    parser.add_argument("--valence-column", default="valence")
    parser.add_argument("--arousal-column", default="arousal")
    parser.add_argument("--extensions", default=".jpg,.jpeg,.png,.webp", help="comma-separated image extensions")


def _add_sampling_arguments(parser):
    parser.add_argument("--steps", type=int, help="diffusion only: Euler steps from noise to image (default 16)")
    parser.add_argument("--guidance", type=float,
                        help="diffusion only: classifier-free guidance scale, 1 = plain conditional (default 2)")


def _load(args, size):
    from helpers.data import load_dataset

    return load_dataset(
        args.images, labels=args.labels, valence_file=args.valence_file, arousal_file=args.arousal_file, size=size,
        id_column=args.id_column, valence_column=args.valence_column, arousal_column=args.arousal_column,
        extensions=tuple(args.extensions.split(",")),
    )


def _data_config(args, size):
    from helpers.config import DataConfig

    return DataConfig(images=str(args.images), labels=str(args.labels or ""),
                      valence_file=str(args.valence_file or ""), arousal_file=str(args.arousal_file or ""), size=size)


def _add_training_arguments(parser, size: bool):
    """The options every training command takes (``--size`` where the command chooses the size)."""
    parser.add_argument("--preset", choices=["ci", "quick", "reference", "full"], default="quick")
    parser.add_argument("--out", default="weights")
    if size:
        parser.add_argument("--size", type=int, choices=[64, 128], default=64)
    parser.add_argument("--epochs", type=int, help="train this many epochs (turns the preset's --minutes budget off)")
    quick = {part: PRESETS["quick"][part].minutes for part in ("vae", "gan", "diffusion")}
    parser.add_argument("--minutes", type=float, help="fit the epochs to this many minutes on this "
                                                      f"machine (quick: VAE {quick['vae']:g}, GAN {quick['gan']:g}, "
                                                      f"diffusion {quick['diffusion']:g}); 0 trains --epochs")
    parser.add_argument("--batch-size", type=int)
    parser.add_argument("--device", default=None, help="auto (default), cpu or cuda")
    parser.add_argument("--resume", help="run folder of an interrupted run")


def _split(args, size):
    """Load the data (printing the loader's report) and split it: (train, val, test, data_config)."""
    data = _load(args, size)
    print(data.report)
    data_config = _data_config(args, size)
    return (*data.split(data_config), data_config)


def cmd_synth(args):
    from helpers.data.synth import write_dataset

    out = write_dataset(args.out, n=args.n, size=args.size, seed=args.seed, progress=not args.quiet)
    print(f"wrote {args.n} images to {Path(out) / 'images'} and labels to {Path(out) / 'labels.csv'}")


def cmd_contact_sheet(args):
    from helpers.data.synth import contact_sheet

    print(contact_sheet(args.dataset, args.out, cells=args.cells, cell_size=args.cell_size))


def cmd_data_report(args):
    from helpers.data import DataError

    try:
        data = _load(args, args.size)
    except (DataError, LabelError) as error:
        if args.json:
            print(json.dumps({"usable": 0, "error": str(error), "skipped": [], "items": []}))
        else:
            print(f"error: {error}", file=sys.stderr)
        return 1
    if args.json:
        report = data.report.to_dict()
        print(json.dumps({"usable": report["usable"], "skipped": report["skipped"], "items": data.items(),
                          "labels_without_image": report["labels_without_image"],
                          "valence_range": report["valence_range"], "arousal_range": report["arousal_range"]}))
    else:
        print(data.report)
    return 0


def cmd_train_vae(args):
    from helpers.config import model_config_for_size, preset
    from helpers.training.vae import train_vae

    size = args.size
    train, val, test, data_config = _split(args, size)
    config = preset(args.preset, "vae", epochs=args.epochs, minutes=args.minutes, batch_size=args.batch_size,
                    device=args.device)
    model_config = model_config_for_size(size, args.preset, eru=args.eru)
    try:
        result = train_vae(config, model_config, train, val, out_dir=args.out, data_config=data_config,
                           resume=args.resume, test=test)
    except KeyboardInterrupt:
        print("\nInterrupted. The state after the last full epoch is in the run folder; resume with --resume RUN_DIR")
        return 130
    print(f"run folder: {result.run_dir}\nbest: {result.best_path}\nfinal: {result.final_path}")
    return 0


def _print_budget(run_dir) -> None:
    """What the time budget did (helpers.readings.read_budget), or that the run had none."""
    from helpers.readings import read_budget

    text = read_budget(run_dir)
    if text:
        print(text)


def cmd_train_gan(args):
    from helpers.config import preset
    from helpers.models.checkpoint import read_checkpoint
    from helpers.training.gan import train_gan

    size = read_checkpoint(args.vae)["model_config"]["image_size"]
    train, val, test, data_config = _split(args, size)
    config = preset(args.preset, "gan", epochs=args.epochs, minutes=args.minutes, batch_size=args.batch_size,
                    device=args.device)
    result = train_gan(config, train, val, args.vae, out_dir=args.out, data_config=data_config,
                       projection=args.projection, resume=args.resume, test=test)
    if result.finished:
        print(f"run folder: {result.run_dir}\ngenerate with: {result.checkpoints['gen_ema_best']}")
        _print_budget(result.run_dir)
        return 0
    return 130


def cmd_train_diffusion(args):
    from helpers.config import diffusion_model_config, preset
    from helpers.training.diffusion import train_diffusion

    size = args.size
    train, val, test, data_config = _split(args, size)
    config = preset(args.preset, "diffusion", epochs=args.epochs, minutes=args.minutes, batch_size=args.batch_size,
                    device=args.device)
    result = train_diffusion(config, diffusion_model_config(size, args.preset), train, val, out_dir=args.out,
                             data_config=data_config, resume=args.resume, test=test)
    if result.finished:
        print(f"run folder: {result.run_dir}\ngenerate with: {result.checkpoint}")
        _print_budget(result.run_dir)
        return 0
    return 130


def _sampling(args) -> dict:
    """--steps and --guidance, for a diffusion checkpoint (a GAN ignores them)."""
    from helpers.rectified_flow import DEFAULT_GUIDANCE, DEFAULT_STEPS

    return {"steps": args.steps or DEFAULT_STEPS, "guidance": DEFAULT_GUIDANCE if args.guidance is None else args.guidance}


def cmd_generate(args):
    import numpy as np

    from helpers.generate import generate
    from helpers.image_tensors import grid, save_png
    from helpers.models.checkpoint import load_generator

    generator = load_generator(args.weights)
    seeds = np.arange(args.seed, args.seed + args.n)
    images = generate(generator, args.valence, args.arousal, seeds, **_sampling(args))
    Path(args.out).parent.mkdir(parents=True, exist_ok=True)
    save_png(grid(images, columns=min(args.n, 8)), args.out)
    print(f"wrote {args.n} image(s) for valence {args.valence:g}, arousal {args.arousal:g}, seeds {seeds[0]}..{seeds[-1]} to {args.out}")
    return 0


def cmd_evaluate(args):
    from helpers.evaluate_checkpoint import evaluate_checkpoint
    from helpers.models.checkpoint import read_checkpoint

    size = read_checkpoint(args.weights)["model_config"]["image_size"]
    metrics, table = evaluate_checkpoint(args.weights, _load(args, size), _data_config(args, size), args.out,
                                         preset=args.preset, **_sampling(args))
    print(table)
    print(f"wrote {args.out}")
    return 0


def cmd_export_reference(args):
    from helpers.metrics import metrics_json
    from helpers.models.checkpoint import export_generator

    out = Path(args.out)
    metrics = json.loads(Path(args.metrics).read_text()) if args.metrics else None
    path = export_generator(args.weights, out / "generator.pth", {"metrics_file": "metrics.json" if metrics else None})
    if metrics:
        (out / "metrics.json").write_text(metrics_json(metrics))
    print(f"wrote {path} ({path.stat().st_size / 1e6:.1f} MB, fp16)" + (f" and {out / 'metrics.json'}" if metrics else ""))
    return 0


def build_parser():
    parser = argparse.ArgumentParser(prog="python -m helpers", description="VA-conditioned landscape generation")
    commands = parser.add_subparsers(dest="command", required=True)

    p = commands.add_parser("synth", help="render the procedural landscape dataset")
    p.add_argument("--out", required=True)
    p.add_argument("--n", type=int, default=2000)
    p.add_argument("--size", type=int, default=128)
    p.add_argument("--seed", type=int, default=0)
    p.add_argument("--quiet", action="store_true")
    p.set_defaults(func=cmd_synth)

    p = commands.add_parser("contact-sheet", help="a PNG of a dataset placed by valence (across) and arousal (down)")
    p.add_argument("--dataset", required=True, help="folder holding images/ and labels.csv")
    p.add_argument("--out", required=True)
    p.add_argument("--cells", type=int, default=9)
    p.add_argument("--cell-size", type=int, default=64)
    p.set_defaults(func=cmd_contact_sheet)

    p = commands.add_parser("data-report", help="what the loader makes of a dataset")
    _add_data_arguments(p)
    p.add_argument("--size", type=int, default=64)
    p.add_argument("--json", action="store_true", help="print one JSON object: usable, skipped, items")
    p.set_defaults(func=cmd_data_report)

    p = commands.add_parser("train-vae", help="pretrain the VAE (the generator's warm start)")
    _add_data_arguments(p)
    _add_training_arguments(p, size=True)
    p.add_argument("--eru", choices=["film", "attention"], default="film")
    p.set_defaults(func=cmd_train_vae)

    p = commands.add_parser("train-gan", help="train the GAN from a pretrained VAE")
    _add_data_arguments(p)
    p.add_argument("--vae", required=True, help="vae_best.pth from train-vae")
    _add_training_arguments(p, size=False)  # the VAE checkpoint fixes the size
    # None unless given: the VAE's model config (the preset's: quick and reference have projection) decides.
    p.add_argument("--projection", action=argparse.BooleanOptionalAction, default=None,
                   help="projection conditioning in D on or off (default: as the VAE's preset has it)")
    p.set_defaults(func=cmd_train_gan)

    p = commands.add_parser("train-diffusion", help="train the diffusion model (rectified flow, a VA-conditioned U-Net)")
    _add_data_arguments(p)
    _add_training_arguments(p, size=True)
    p.set_defaults(func=cmd_train_diffusion)

    p = commands.add_parser("generate", help="images for one valence/arousal")
    p.add_argument("--weights", required=True,
                   help="progressive_gen_ema_best.pth, diffusion_ema.pth, or any generator/VAE/diffusion checkpoint")
    p.add_argument("--valence", type=float, required=True, help="1-9")
    p.add_argument("--arousal", type=float, required=True, help="1-9")
    p.add_argument("--n", type=int, default=8)
    p.add_argument("--seed", type=int, default=0, help="image i gets seed + i")
    p.add_argument("--out", required=True, help="a PNG file")
    _add_sampling_arguments(p)
    p.set_defaults(func=cmd_generate)

    p = commands.add_parser("evaluate", help="KID/FID, VA control, colour slopes, diversity, memorisation")
    p.add_argument("--weights", required=True)
    _add_data_arguments(p)
    p.add_argument("--out", default="metrics.json")
    p.add_argument("--preset", choices=["ci", "quick", "full"], default="quick")
    _add_sampling_arguments(p)
    p.set_defaults(func=cmd_evaluate)

    p = commands.add_parser("export-reference", help="ship a generator: fp16 weights (+ its metrics.json) in one folder")
    p.add_argument("--weights", required=True, help="progressive_gen_ema_best.pth of the reference run")
    p.add_argument("--metrics", help="its metrics.json from `evaluate`")
    p.add_argument("--out", default="weights/reference")
    p.set_defaults(func=cmd_export_reference)
    return parser


def main(argv=None) -> int:
    args = build_parser().parse_args(argv)
    from helpers.data import DataError
    from helpers.models.checkpoint import CheckpointError

    try:
        return args.func(args) or 0
    except (DataError, LabelError, CheckpointError, ValueError) as error:
        print(f"error: {error}", file=sys.stderr)
        return 2
