"""Action progress from the alignment to a reference."""
import numpy as np

from gtalign.apps.alignment import align_embeddings
from gtalign.apps.progress import progress_from_alignment, write_progress
from tests._helpers.apps import embed_u


def test_progress_follows_canonical_time(tmp_path):
    u_video = np.interp(np.linspace(0, 1, 50), [0, 0.5, 1], [0, 0.2, 0.7])  # slow start, stops at 70 %
    reference = np.linspace(0, 1, 80)
    al = align_embeddings(embed_u(u_video), embed_u(reference))
    progress = progress_from_alignment(al)
    assert progress.min() >= 0 and progress.max() <= 1
    assert np.abs(progress - u_video).max() < 1.5 / 79
    write_progress(progress, 25.0, tmp_path)
    rows = (tmp_path / "progress.csv").read_text().splitlines()
    assert rows[0] == "frame,time_s,progress" and len(rows) == 51
    assert rows[25].split(",")[1] == f"{24 / 25:.6f}"
    assert (tmp_path / "progress.png").stat().st_size > 0
