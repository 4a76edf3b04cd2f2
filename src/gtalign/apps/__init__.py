"""What a user runs on their own videos: align (with the synchronized viewer), cam, retrieve, progress, transfer.

Each application is a library function (`align_videos`, `write_cam`, `retrieve`, `video_progress`,
`transfer_track`, `transfer_audio`) that `gtalign.apps.commands` exposes as a sub-command.
"""
