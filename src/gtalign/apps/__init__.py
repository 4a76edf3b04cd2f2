"""What a user runs on their own videos: align (with the synchronized viewer), cam, retrieve, progress, transfer.

Library entry points (each exposed as a sub-command by `gtalign.cli.apps`):
`align.align_videos`, `cam.write_cam`, `retrieve.build_index` + `retrieve.nearest_frames`,
`progress.progress_from_alignment`, `transfer.transfer_track` and `audio.retime_audio`; underneath,
`alignment.align_embeddings` (DTW on frame embeddings), `sameness.sameness_test` and the encoders of `encoders`.
The demo (`gtalign.apps.demo`) builds on them.
"""
