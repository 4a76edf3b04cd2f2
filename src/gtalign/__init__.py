"""gtalign: frame-level video representations by global temporal alignment (Hadji et al., CVPR 2021)."""

__version__ = "0.1.0"
