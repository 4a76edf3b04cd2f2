"""The embedding network: torchvision trunks cut at conv4, the 3D-conv context embedder, training regimes, weights."""
from gtalign.models.embedder import ContextEmbedder, Embedder
from gtalign.models.regimes import REGIMES
from gtalign.models.trunks import available_trunks, build_trunk, load_classifier
from gtalign.models.weights import IMAGENET, weights_dir

__all__ = ["IMAGENET", "REGIMES", "ContextEmbedder", "Embedder", "available_trunks", "build_trunk",
           "load_classifier", "weights_dir"]
