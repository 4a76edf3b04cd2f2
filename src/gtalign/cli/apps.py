"""`gtalign align | sync | audit | cam | retrieve | progress | transfer`: parse arguments, call the applications."""
from __future__ import annotations

import argparse
import dataclasses
import sys
from pathlib import Path

from gtalign.argtypes import int_at_least, output_folder, positive_float
from gtalign.errors import GtalignError


def _common(p: argparse.ArgumentParser, checkpoint_help: str) -> None:
    p.add_argument("--checkpoint", default=None, help=checkpoint_help)
    p.add_argument("--fps", type=float, default=None, help="frame rate of frame folders and per-frame arrays "
                                                           "(default 30; video files keep their own)")
    p.add_argument("--device", default="auto", help="auto, cpu, cuda, ...")
    p.add_argument("--quiet", action="store_true", help="no progress bars")


FEATURES_HELP = ("feature streams: 'pose', 'crop' (person crop), 'imagenet' (whole frame), combined with '+' and "
                 "weighted with ':'; default 'pose+crop:0.5+imagenet:0.5' (pose needs gtalign[pose])")
CKPT_HELP = "a gtalign checkpoint (default: ImageNet MobileNetV2 features from the local weights folder)"


def _with_videos(source, dirs: list[str], progress: bool = True):
    """`source` plus the videos of the datasets `dirs` (ids prefixed so they stay distinct)."""
    from gtalign.data import open_source
    from gtalign.data.manifest import Manifest
    from gtalign.data.source import VideoSource

    entries = list(source.entries)
    for k, d in enumerate(dirs):
        extra = open_source(d, progress=progress)
        entries += [dataclasses.replace(e, id=f"with{k}_{e.id}") for e in extra.entries]
    return VideoSource(Manifest(name="videos", videos=entries))


def _checked_fit(args: argparse.Namespace, source, extractor, out: Path):
    """Fit an embedder, check it against the default features on held-out re-timed copies (`apps.fit_check`):
    (encoder or None when the default features are kept, the videos' streams when computed, the check)."""
    from gtalign.apps.fit import FitSettings
    from gtalign.apps.fit_check import fit_and_check

    found = fit_and_check(source, _with_videos(source, args.with_dirs or [], not args.quiet), extractor, out,
                          FitSettings(steps=args.fit_steps, image_size=args.fit_image_size, device=args.device),
                          progress=not args.quiet)
    print(f"fitted embedder: {found.checkpoint}")
    print(f"--fit check: {found.check.reason}")
    return found.encoder, found.features, found.check


def _align(args: argparse.Namespace) -> int:
    from gtalign.apps.align import align_videos
    from gtalign.apps.encoders import make_encoder
    from gtalign.apps.inputs import open_videos
    from gtalign.apps.sequences import is_sequence_file

    sequences = [is_sequence_file(v) for v in args.videos]
    if any(sequences):
        return _align_sequences(args, sequences)
    if args.checkpoint and args.fit:
        raise GtalignError("give either --checkpoint or --fit, not both")
    if args.features and args.checkpoint:
        raise GtalignError("--features aligns by pose/appearance streams; it cannot be combined with --checkpoint")
    if args.soft and not args.checkpoint:
        raise GtalignError("--soft applies to --checkpoint embeddings; the feature alignment (and --fit) already "
                           "gives sub-frame positions (position_b in correspondence.csv)")
    extractor = None if args.checkpoint else _feature_extractor(args)
    if args.with_dirs and not args.fit:
        raise GtalignError("--with adds training videos for --fit; it needs --fit")
    source = open_videos(args.videos, args.fps, minimum=2, what="align needs two or more videos")
    out = Path(args.out)
    encoder, feats, extra = None, None, {}
    if args.fit:
        encoder, feats, check = _checked_fit(args, source, extractor, out)
        extra = {"fit_check": check.to_json()}
    elif args.checkpoint:
        encoder = make_encoder(args.checkpoint, args.device)
    summary = align_videos(source, encoder, out, soft=args.soft, gamma=args.gamma, max_side=args.max_side,
                           progress=not args.quiet, extractor=extractor if encoder is None else None,
                           features=feats, constrained=bool(args.fit), extra=extra)
    _report_pairs(summary, out)
    return 0


def _report_pairs(summary: dict, out: Path) -> None:
    """Print each aligned pair's folder, matched span and same-process verdict (a warning too when it fails)."""
    for pair in summary["pairs"]:
        print(f"{pair['b']} -> {pair['a']}: {pair['folder']}")
        print(f"  {pair['span_message']}")
        print(f"  {pair['same_process']['message']}")
        if pair.get("cycle_frames") is not None:
            print(f"  aligned the other way round, frames come back {pair['cycle_frames']:.2f} frames off on average "
                  f"(the higher, the likelier the pair is off)")
        if not pair["same_process"]["same_process"]:
            print(f"gtalign align: {pair['b']}: {pair['same_process']['message']}", file=sys.stderr)
    print(f"summary: {out / 'summary.json'}")


def _align_sequences(args: argparse.Namespace, sequences: list[bool]) -> int:
    """`gtalign align A.npy B.npy --fps 30`: per-frame arrays instead of videos."""
    from gtalign.apps.sequences import align_sequence_files

    if not all(sequences):
        raise GtalignError("give either videos or per-frame arrays (.npy, .csv), not both: got "
                           + ", ".join(str(v) for v in args.videos))
    if len(args.videos) < 2:
        raise GtalignError(f"align needs two or more sequences, got {len(args.videos)}")
    if args.checkpoint or args.fit or args.features or args.soft:
        raise GtalignError("--checkpoint, --fit, --features and --soft apply to videos, not to per-frame arrays")
    fps = 30.0 if args.fps is None else float(args.fps)
    if not fps > 0:
        raise GtalignError(f"--fps must be > 0 frames per second, got {args.fps}")
    out = Path(args.out)
    summary = align_sequence_files(args.videos, fps, out)
    _report_pairs(summary, out)
    return 0


def _feature_extractor(args: argparse.Namespace):
    """The `--features` extractor (the default streams; whole frames with a note where MediaPipe is missing)."""
    from gtalign.apps.features import DEFAULT_FEATURES, FeatureExtractor, FeatureSpec, pose_available

    if args.features is None:
        args.features = DEFAULT_FEATURES if pose_available() else "imagenet"
        if args.features != DEFAULT_FEATURES and not args.quiet:
            print("note: MediaPipe is not installed (pip install 'gtalign[pose]'): using whole-frame appearance "
                  "only", file=sys.stderr)
    FeatureSpec.parse(args.features)  # a bad spec fails before any work
    return FeatureExtractor(args.features, device=args.device)


def _sync_inputs(args: argparse.Namespace, videos: list[str]):
    from gtalign.apps.inputs import open_videos
    from gtalign.apps.sync_run import reference_index

    out = Path(args.out)
    extractor = _feature_extractor(args)
    source = open_videos(videos, args.fps, minimum=2, what="sync needs two or more videos")
    return source, reference_index(source, args.reference), extractor, out


def _print_cameras(doc: dict) -> None:
    for cam in doc["cameras"]:
        if cam["offset_s"] is None:
            print(f"  {cam['video']}: unreliable, no clock ({cam.get('reason', '')})")
        else:
            print(f"  {cam['video']}: offset {cam['offset_s']:+.4f} s ({cam['offset_frames']:+.2f} frames), rate "
                  f"{cam['rate']:.5f}, confidence {cam['confidence']:.2f}, {cam['status']}")


def _sync(args: argparse.Namespace) -> int:
    from gtalign.apps.sync_run import sync_videos

    source, reference, extractor, out = _sync_inputs(args, args.videos)
    doc = sync_videos(source, extractor, out, reference, max_side=args.max_side, write_videos=args.write_videos,
                      progress=not args.quiet)
    print(f"reference: {doc['reference']} (each camera shows reference time t at offset_s + rate * t)")
    _print_cameras(doc)
    print(f"written: {out / 'sync.json'}, {out / 'sync.csv'}, {out / 'residuals.png'}, {out / 'viewer.html'}"
          + (f", {out / 'synced'}/" if args.write_videos else ""))
    return 0


def _audit(args: argparse.Namespace) -> int:
    from gtalign.apps.sync_run import audit_rows, sync_videos
    from gtalign.data.video import VIDEO_SUFFIXES
    from gtalign.io import write_json

    folder = Path(args.folder)
    if not folder.is_dir():
        raise GtalignError(f"audit: {folder} is not a folder of videos")
    videos = sorted(str(p) for p in folder.iterdir() if p.suffix.lower() in VIDEO_SUFFIXES)
    if len(videos) < 2:
        raise GtalignError(f"audit: {folder} has {len(videos)} video file(s); expected two or more "
                           f"({', '.join(VIDEO_SUFFIXES)})")
    args.out = args.out or str(folder / "gtalign_audit")
    source, reference, extractor, out = _sync_inputs(args, videos)
    doc = sync_videos(source, extractor, out, reference, max_side=args.max_side, progress=not args.quiet)
    rows = audit_rows(doc, args.tolerance)
    write_json(out / "audit.json", {"reference": doc["reference"], "tolerance_frames": args.tolerance,
                                    "cameras": rows})
    print(f"{'video':30s} {'status':10s} {'confidence':>10s} {'offset (s)':>11s} {'off by (frames)':>16s}  verdict")
    for r in rows:
        verdict = "cannot tell" if r["off"] is None else ("OFF" if r["off"] else "in sync")
        offset = "-" if r["offset_s"] is None else f"{r['offset_s']:+.4f}"
        worst = "-" if r["worst_frames"] is None else f"{r['worst_frames']:.2f}"
        if r["worst_frames"] is not None and r["error_frames"] is not None:
            worst += f" +- {r['error_frames']:.1f}"
        print(f"{r['video']:30s} {r['status']:10s} {r['confidence']:10.2f} {offset:>11s} {worst:>16s}  {verdict}")
    off = [r["video"] for r in rows if r["off"]]
    unsure = [r["video"] for r in rows if r["off"] is None]
    print(f"{len(off)} of {len(rows)} camera(s) off by more than {args.tolerance:g} frame(s)"
          + (f": {', '.join(off)}" if off else "")
          + (f"; cannot tell for {', '.join(unsure)}" if unsure else "") + f"; written: {out / 'audit.json'}")
    return 1 if args.strict and off else 0


def _cam(args: argparse.Namespace) -> int:
    from gtalign.apps.cam import write_cam
    from gtalign.apps.encoders import make_encoder
    from gtalign.apps.inputs import open_videos

    source = open_videos([args.video], args.fps)
    written = write_cam(make_encoder(args.checkpoint, args.device), source, 0, args.out, args.frames)
    print("\n".join(f"{k}: {v}" for k, v in written.items()))
    return 0


def _retrieve(args: argparse.Namespace) -> int:
    from gtalign.apps.encoders import make_encoder
    from gtalign.apps.inputs import open_videos, parse_frame_ref
    from gtalign.apps.retrieve import build_index, default_index_dir, hits_json, nearest_frames
    from gtalign.apps.retrieve_sheet import retrieval_sheet
    from gtalign.data import open_source
    from gtalign.io import write_json

    video, frame = parse_frame_ref(args.query)
    query = open_videos([video], args.fps, what="--query")
    if not 0 <= frame < query.entries[0].num_frames:
        raise GtalignError(f"--query frame {frame} is outside {video} ({query.entries[0].num_frames} frames)")
    corpus = open_source(args.corpus, progress=not args.quiet)
    encoder = make_encoder(args.checkpoint, args.device)
    index_dir = Path(args.index) if args.index else default_index_dir(args.corpus, encoder)
    index = build_index(encoder, corpus, index_dir, progress=not args.quiet)
    own = next((e.id for e in corpus.entries if Path(e.path).resolve() == Path(video).resolve()), None)
    emb = next((v.emb for v in index if v.id == own), None) if own else None
    emb = encoder.encode(query, 0) if emb is None else emb
    hits = nearest_frames(emb[frame], index, args.k, exclude_video=None if args.include_query_video else own)
    out = Path(args.out)
    write_json(out / "retrieval.json", hits_json((str(video), frame), hits, index_dir))
    sheet = retrieval_sheet(query, frame, corpus, hits, out / "retrieval.png")
    for h in hits:
        print(f"{h.rank:3d}. {h.video} frame {h.frame}  distance {h.distance:.4f}")
    print(f"index: {index_dir}\nresults: {out / 'retrieval.json'}\ncontact sheet: {sheet}")
    return 0


def _progress(args: argparse.Namespace) -> int:
    from gtalign.apps.alignment import align_embeddings
    from gtalign.apps.encoders import encode_all, make_encoder
    from gtalign.apps.inputs import open_videos
    from gtalign.apps.progress import progress_from_alignment, write_progress
    from gtalign.apps.sameness import sameness_test

    source = open_videos([args.video, args.reference], args.fps)
    emb = encode_all(make_encoder(args.checkpoint, args.device), source, progress=not args.quiet)
    alignment = align_embeddings(emb[0], emb[1])
    progress = progress_from_alignment(alignment)
    write_progress(progress, source.entries[0].fps, args.out, title=f"{source.entries[0].id} along "
                                                                    f"{source.entries[1].id}")
    test = sameness_test(alignment.cost)
    print(test.message())
    print(f"progress: {Path(args.out) / 'progress.csv'} ({len(progress)} frames, final {progress[-1]:.2f})")
    return 0


def _transfer(args: argparse.Namespace) -> int:
    from gtalign.apps.alignment import align_embeddings
    from gtalign.apps.encoders import encode_all, make_encoder
    from gtalign.apps.inputs import open_videos
    from gtalign.apps.sameness import sameness_test

    source = open_videos([args.to_video, args.from_video], args.fps, what="transfer")
    b, a = source.entries
    if args.track:  # read and checked before the encoding
        from gtalign.apps.transfer import check_track, read_track

        track, header = read_track(args.track)
        check_track(track, a.num_frames, f"--track {args.track}")
    emb = encode_all(make_encoder(args.checkpoint, args.device), source, progress=not args.quiet)
    alignment = align_embeddings(emb[0], emb[1], soft=args.soft)  # rows: B (target), columns: A (source)
    print(sameness_test(alignment.cost).message())
    if args.track:
        from gtalign.apps.transfer import transfer_track, write_track

        out = Path(args.out or f"{Path(args.track).stem}_on_{b.id}{Path(args.track).suffix}")
        write_track(out, transfer_track(track, alignment), header)
    else:
        from gtalign.apps.audio import read_audio, retime_audio, write_video_with_audio
        from gtalign.apps.inputs import read_display_frames
        from gtalign.apps.transfer import audio_time_map

        samples, rate = read_audio(a.path)
        knots = audio_time_map(alignment, a.fps, b.fps)
        audio = retime_audio(samples, rate, *knots, duration=b.num_frames / b.fps)
        out = Path(args.out or f"{b.id}_with_audio_of_{a.id}.mp4")
        write_video_with_audio(read_display_frames(source, 0, args.max_side), b.fps, audio, rate, out)
    print(f"written: {out}")
    return 0


def register(subparsers: argparse._SubParsersAction) -> None:
    p = subparsers.add_parser("align", help="align videos to the first one (CSV, plot, side-by-side video, viewer)",
                              description="Embed the videos, align each to the first with DTW and write "
                                          "correspondence.csv, alignment.png, side_by_side.mp4, viewer.html and "
                                          "summary.json, and warn when a pair does not seem to show the same process.")
    p.add_argument("videos", nargs="+", help="video files or frame folders, or per-frame arrays (.npy with frames "
                                             "first, .csv with a row per frame; --fps gives their rate); the first "
                                             "is the reference")
    p.add_argument("-o", "--out", required=True, type=output_folder, help="output folder")
    _common(p, "a gtalign checkpoint (default: align by the --features streams)")
    p.add_argument("--fit", action="store_true",
                   help="first adapt an embedder to these videos (short self-supervised GTA training on frozen "
                        "ImageNet features); it is used only if it aligns held-out re-timed copies of the videos "
                        "better than the --features streams, which are used otherwise (summary.json: fit_check)")
    p.add_argument("--with", dest="with_dirs", action="append", metavar="DIR",
                   help="more videos (a dataset folder) to train on with --fit; repeatable")
    p.add_argument("--fit-steps", type=int_at_least(1), default=300, help="training steps of --fit (default 300)")
    p.add_argument("--fit-image-size", type=int_at_least(32, " pixels"), default=112,
                   help="frame size for --fit (pixels, default 112; larger is slower)")
    p.add_argument("--features", default=None, metavar="SPEC",
                   help=f"{FEATURES_HELP}. The default without --checkpoint (and the fallback of --fit); aligned on "
                        "a slope-limited path with open ends; adds position_b, matched and confidence columns to "
                        "correspondence.csv")
    p.add_argument("--soft", action="store_true",
                   help="with --checkpoint: smoothDTW expected alignment instead of the hard path")
    p.add_argument("--gamma", type=positive_float, default=0.1, help="smoothDTW temperature for --soft (default 0.1)")
    p.add_argument("--max-side", default=480, type=int_at_least(16, " pixels"),
                   help="longest side of the written videos (pixels)")
    p.set_defaults(func=_align)

    p = subparsers.add_parser("sync", help="clocks of several cameras of one event (offset and rate per camera)",
                              description="Synchronise cameras that share no clock, from their footage alone: "
                                          "align every pair, fit per camera t_cam = offset_s + rate * t_ref against "
                                          "the reference, combine all pairs, and write sync.json, sync.csv, "
                                          "residuals.png and viewer.html (all cameras in lockstep).")
    p.add_argument("videos", nargs="+", help="video files or frame folders, one per camera")
    p.add_argument("-o", "--out", required=True, type=output_folder, help="output folder")
    p.add_argument("--reference", default=None, help="the reference camera's file name (default: the first video)")
    p.add_argument("--features", default=None, metavar="SPEC", help=FEATURES_HELP)
    p.add_argument("--write-videos", action="store_true",
                   help="also write synced/<name>.mp4: every camera with a clock re-timed onto the reference clock "
                        "over the time all cover, at the reference's frame rate")
    p.add_argument("--max-side", default=480, type=int_at_least(16, " pixels"),
                   help="longest side of the written videos (pixels)")
    p.add_argument("--fps", type=float, default=None, help="frame rate of frame folders (default 30)")
    p.add_argument("--device", default="auto", help="auto, cpu, cuda, ...")
    p.add_argument("--quiet", action="store_true", help="no progress bars")
    p.set_defaults(func=_sync)

    p = subparsers.add_parser("audit", help="check that a folder of videos is in sync (lists cameras that are off)",
                              description="Estimate each camera's offset and drift against the first (or "
                                          "--reference) as `gtalign sync` does, and list the cameras off by more "
                                          "than --tolerance frames anywhere in their footage; writes audit.json.")
    p.add_argument("folder", help="a folder of videos that should be synchronised")
    p.add_argument("-o", "--out", default=None, type=output_folder,
                   help="output folder (default FOLDER/gtalign_audit)")
    p.add_argument("--tolerance", type=positive_float, default=1.0, help="frames a camera may be off (default 1)")
    p.add_argument("--strict", action="store_true", help="exit with status 1 when a camera is off")
    p.add_argument("--reference", default=None, help="the reference camera's file name (default: the first)")
    p.add_argument("--features", default=None, metavar="SPEC", help=FEATURES_HELP)
    p.add_argument("--max-side", type=int_at_least(16, " pixels"), default=480,
                   help="longest side of the viewer's videos (pixels)")
    p.add_argument("--fps", type=float, default=None, help=argparse.SUPPRESS)
    p.add_argument("--device", default="auto", help="auto, cpu, cuda, ...")
    p.add_argument("--quiet", action="store_true", help="no progress bars")
    p.set_defaults(func=_audit)

    p = subparsers.add_parser("cam", help="activation maps of the representation over a video (mp4 + PNG)")
    p.add_argument("video", help="a video file or frame folder")
    p.add_argument("-o", "--out", required=True, type=output_folder, help="output folder")
    p.add_argument("--frames", type=int_at_least(1), default=8, help="frames on the contact sheet (default 8)")
    _common(p, CKPT_HELP)
    p.set_defaults(func=_cam)

    p = subparsers.add_parser("retrieve", help="nearest frames to a query frame across a collection of videos")
    p.add_argument("--query", required=True, metavar="VIDEO:FRAME", help="query video and frame index")
    p.add_argument("--corpus", required=True, help="a dataset (folder of videos, manifest, ...)")
    p.add_argument("-k", type=int_at_least(1), default=10, help="number of frames to return (default 10)")
    p.add_argument("--index", default=None, help="where the corpus index is kept (default: a cache folder per "
                                                 "corpus and network)")
    p.add_argument("--include-query-video", action="store_true", help="also return frames of the query's video")
    p.add_argument("-o", "--out", default=".", type=output_folder,
                   help="folder for retrieval.json and retrieval.png (default .)")
    _common(p, CKPT_HELP)
    p.set_defaults(func=_retrieve)

    p = subparsers.add_parser("progress", help="per-frame action progress (0-1) from the alignment to a reference")
    p.add_argument("video", help="a video file or frame folder")
    p.add_argument("--reference", required=True, help="a video of the whole action, start to end")
    p.add_argument("-o", "--out", default=".", type=output_folder,
                   help="folder for progress.csv and progress.png (default .)")
    _common(p, CKPT_HELP)
    p.set_defaults(func=_progress)

    p = subparsers.add_parser("transfer", help="carry A's audio or a per-frame array onto B's timeline")
    p.add_argument("--from", dest="from_video", required=True, help="video A (the source of the audio/track)")
    p.add_argument("--to", dest="to_video", required=True, help="video B (the target timeline)")
    what = p.add_mutually_exclusive_group(required=True)
    what.add_argument("--audio", action="store_true", help="write B with A's re-timed audio (mp4)")
    what.add_argument("--track", help="a per-frame array of A (.npy, frames first, or .csv, a row per frame)")
    p.add_argument("-o", "--out", default=None, help="output file (default: derived from the names)")
    p.add_argument("--soft", action="store_true", help="smoothDTW expected alignment (tracks are interpolated)")
    p.add_argument("--max-side", type=int_at_least(16, " pixels"), default=480,
                   help="longest side of the written video (--audio)")
    _common(p, CKPT_HELP)
    p.set_defaults(func=_transfer)
