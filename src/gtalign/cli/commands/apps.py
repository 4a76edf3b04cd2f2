"""`gtalign align | sync | audit | cam | retrieve | progress | transfer`: run the applications on parsed
arguments and print what was written."""
from __future__ import annotations

import argparse
import dataclasses
import sys
from pathlib import Path

from gtalign.apps.align import align_videos
from gtalign.apps.alignment import PathSettings, align_embeddings
from gtalign.apps.audio import read_audio, retime_audio, write_video_with_audio
from gtalign.apps.cam import write_cam
from gtalign.apps.encoders import encode_all, make_encoder
from gtalign.apps.features import DEFAULT_FEATURES, FeatureExtractor, FeatureSpec, pose_available
from gtalign.apps.fit import FitSettings
from gtalign.apps.fit_check import fit_and_check
from gtalign.apps.inputs import open_videos, parse_frame_ref, read_display_frames
from gtalign.apps.progress import progress_from_alignment, write_progress
from gtalign.apps.retrieve import build_index, default_index_dir, hits_json, nearest_frames
from gtalign.apps.retrieve_sheet import retrieval_sheet
from gtalign.apps.sameness import sameness_test
from gtalign.apps.sequences import align_sequence_files, is_sequence_file
from gtalign.apps.sync_run import audit_rows, reference_index, sync_videos
from gtalign.apps.sync_sequences import sync_sequence_files
from gtalign.apps.transfer import audio_time_map, check_track, read_track, transfer_track, write_track
from gtalign.data import open_source
from gtalign.data.manifest import Manifest
from gtalign.data.source import VideoSource
from gtalign.data.video import VIDEO_SUFFIXES, is_video_file
from gtalign.errors import GtalignError
from gtalign.io import write_json


def _with_videos(source, dirs: list[str], progress: bool = True):
    """`source` plus the videos of the datasets `dirs` (ids prefixed so they stay distinct)."""
    entries = list(source.entries)
    for k, d in enumerate(dirs):
        extra = open_source(d, progress=progress)
        entries += [dataclasses.replace(e, id=f"with{k}_{e.id}") for e in extra.entries]
    return VideoSource(Manifest(name="videos", videos=entries))


def _checked_fit(args: argparse.Namespace, source, extractor, out: Path):
    """Fit an embedder, check it against the default features on held-out re-timed copies (`apps.fit_check`):
    (encoder or None when the default features are kept, the videos' streams when computed, the check)."""
    found = fit_and_check(source, _with_videos(source, args.with_dirs or [], not args.quiet), extractor, out,
                          FitSettings(steps=args.fit_steps, image_size=args.fit_image_size, device=args.device),
                          progress=not args.quiet)
    print(f"fitted embedder: {found.checkpoint}")
    print(f"--fit check: {found.check.reason}")
    return found.encoder, found.features, found.check


def run_align(args: argparse.Namespace) -> int:
    sequences = [is_sequence_file(v) for v in args.videos]
    if any(sequences):
        return _align_sequences(args, sequences)
    if args.checkpoint and args.fit:
        raise GtalignError("give either --checkpoint or --fit, not both")
    if args.features and args.checkpoint:
        raise GtalignError("--features aligns by pose/appearance streams; it cannot be combined with --checkpoint")
    if args.stride > 1 and args.checkpoint:
        raise GtalignError("--stride thins the --features streams; it cannot be combined with --checkpoint")
    if args.drop and args.soft:
        raise GtalignError("--drop and --soft are two different paths; give one")
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
                           path_settings=PathSettings(drop=args.drop), features=feats,
                           constrained=bool(args.fit) or args.drop, extra=extra)
    _report_pairs(summary, out)
    return 0


def _confidence_message(pair: dict) -> str:
    """The pair's confidence as a sentence: the expected share of frames within 3 frames, and where it is unsure."""
    text = f"confidence {pair['confidence']:.2f} (the expected share of frames within 3 frames of the truth)"
    unsure = pair.get("unsure")
    if unsure and unsure["frames"]:
        shown = ", ".join(f"{a}-{b}" for a, b in unsure["stretches"][:3])
        more = f" and {len(unsure['stretches']) - 3} more" if len(unsure["stretches"]) > 3 else ""
        text += (f"; {unsure['frames']} frame(s) of {pair['a']} below {unsure['below']:g} in "
                 f"{len(unsure['stretches'])} stretch(es): frames {shown}{more}")
    return text


def _report_pairs(summary: dict, out: Path) -> None:
    """Print each aligned pair's folder, matched span and same-process verdict (a warning too when it fails)."""
    for pair in summary["pairs"]:
        print(f"{pair['b']} -> {pair['a']}: {pair['folder']}")
        print(f"  {pair['span_message']}")
        print(f"  {pair['same_process']['message']}")
        if pair.get("dropped") is not None:
            d = pair["dropped"]
            print(f"  dropped (matched nothing): {d['a_frames']} frame(s) of {pair['a']} in {len(d['a_stretches'])} "
                  f"stretch(es), {d['b_frames']} of {pair['b']} in {len(d['b_stretches'])}")
        if pair.get("confidence") is not None:
            print(f"  {_confidence_message(pair)}")
        if pair.get("cycle_frames") is not None:
            print(f"  aligned the other way round, frames come back {pair['cycle_frames']:.2f} frames off on average "
                  f"(the higher, the likelier the pair is off)")
        if not pair["same_process"]["same_process"]:
            print(f"gtalign align: {pair['b']}: {pair['same_process']['message']}", file=sys.stderr)
    print(f"summary: {out / 'summary.json'}")


def _align_sequences(args: argparse.Namespace, sequences: list[bool]) -> int:
    """`gtalign align A.npy B.npy --fps 30`: per-frame arrays instead of videos."""
    if not all(sequences):
        raise GtalignError("give either videos or per-frame arrays (.npy, .csv), not both: got "
                           + ", ".join(str(v) for v in args.videos))
    if len(args.videos) < 2:
        raise GtalignError(f"align needs two or more sequences, got {len(args.videos)}")
    if args.checkpoint or args.fit or args.features or args.soft or args.stride > 1:
        raise GtalignError("--checkpoint, --fit, --features, --stride and --soft apply to videos, not to per-frame "
                           "arrays")
    out = Path(args.out)
    summary = align_sequence_files(args.videos, _sequence_fps(args), out, PathSettings(drop=args.drop))
    _report_pairs(summary, out)
    return 0


def _sequence_fps(args: argparse.Namespace) -> float:
    """The rate of per-frame arrays: --fps, 30 by default."""
    fps = 30.0 if args.fps is None else float(args.fps)
    if not fps > 0:
        raise GtalignError(f"--fps must be > 0 frames per second, got {args.fps}")
    return fps


def _sync_sequences(args: argparse.Namespace, sequences: list[bool]) -> int:
    """`gtalign sync a.npy b.npy c.npy --fps 100`: clocks of per-frame arrays instead of videos."""
    if not all(sequences):
        raise GtalignError("give either videos or per-frame arrays (.npy, .csv), not both: got "
                           + ", ".join(str(v) for v in args.videos))
    if args.features or args.write_videos:
        raise GtalignError("--features and --write-videos apply to videos, not to per-frame arrays")
    out = Path(args.out)
    doc = sync_sequence_files(args.videos, _sequence_fps(args), out, args.reference)
    print(f"reference: {doc['reference']} (each sequence shows reference time t at offset_s + rate * t)")
    _print_cameras(doc)
    print(f"written: {out / 'sync.json'}, {out / 'sync.csv'}, {out / 'residuals.png'}")
    return 0


def _feature_extractor(args: argparse.Namespace):
    """The `--features` extractor (the default streams; whole frames with a note where MediaPipe is missing)."""
    if args.features is None:
        args.features = DEFAULT_FEATURES if pose_available() else "imagenet"
        if args.features != DEFAULT_FEATURES and not args.quiet:
            print("note: MediaPipe is not installed (pip install 'gtalign[pose]'): using whole-frame appearance "
                  "only", file=sys.stderr)
    FeatureSpec.parse(args.features)  # a bad spec fails before any work
    return FeatureExtractor(args.features, device=args.device, stride=getattr(args, "stride", 1))


def _sync_inputs(args: argparse.Namespace, videos: list[str]):
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


def run_sync(args: argparse.Namespace) -> int:
    sequences = [is_sequence_file(v) for v in args.videos]
    if any(sequences):
        return _sync_sequences(args, sequences)
    source, reference, extractor, out = _sync_inputs(args, args.videos)
    doc = sync_videos(source, extractor, out, reference, max_side=args.max_side, write_videos=args.write_videos,
                      progress=not args.quiet)
    print(f"reference: {doc['reference']} (each camera shows reference time t at offset_s + rate * t)")
    _print_cameras(doc)
    print(f"written: {out / 'sync.json'}, {out / 'sync.csv'}, {out / 'residuals.png'}, {out / 'viewer.html'}"
          + (f", {out / 'synced'}/" if args.write_videos else ""))
    return 0


def run_audit(args: argparse.Namespace) -> int:
    folder = Path(args.folder)
    if not folder.is_dir():
        raise GtalignError(f"audit: {folder} is not a folder of videos")
    videos = sorted(str(p) for p in folder.iterdir() if is_video_file(p))
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
    # strict: a camera that could not be checked has not passed the check either
    return 1 if args.strict and (off or unsure) else 0


def run_cam(args: argparse.Namespace) -> int:
    source = open_videos([args.video], args.fps)
    written = write_cam(make_encoder(args.checkpoint, args.device), source, 0, args.out, args.frames)
    print("\n".join(f"{k}: {v}" for k, v in written.items()))
    return 0


def run_retrieve(args: argparse.Namespace) -> int:
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


def run_progress(args: argparse.Namespace) -> int:
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


def run_transfer(args: argparse.Namespace) -> int:
    source = open_videos([args.to_video, args.from_video], args.fps, what="transfer")
    b, a = source.entries
    if args.track:  # read and checked before the encoding
        track, header = read_track(args.track)
        check_track(track, a.num_frames, f"--track {args.track}")
    emb = encode_all(make_encoder(args.checkpoint, args.device), source, progress=not args.quiet)
    alignment = align_embeddings(emb[0], emb[1], soft=args.soft)  # rows: B (target), columns: A (source)
    print(sameness_test(alignment.cost).message())
    if args.track:
        out = Path(args.out or f"{Path(args.track).stem}_on_{b.id}{Path(args.track).suffix}")
        write_track(out, transfer_track(track, alignment), header)
    else:
        samples, rate = read_audio(a.path)
        knots = audio_time_map(alignment, a.fps, b.fps)
        audio = retime_audio(samples, rate, *knots, duration=b.num_frames / b.fps)
        out = Path(args.out or f"{b.id}_with_audio_of_{a.id}.mp4")
        write_video_with_audio(read_display_frames(source, 0, args.max_side), b.fps, audio, rate, out)
    print(f"written: {out}")
    return 0
