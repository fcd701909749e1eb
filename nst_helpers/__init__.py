"""nst_helpers: neural style transfer (Gatys et al. 2015) on TensorFlow/Keras, for learning and for use.

Modules by concern: ``images`` (load, resize, preprocess, save; with ``samples``, the
bundled images, and ``decode``, reading image files), ``weights`` (where VGG19's ImageNet
weights come from), ``model`` (VGG19 feature extractor), ``losses``, ``optimise``
(``stylize``), ``controls`` (style masks; with ``colour``, colour preservation), ``memory``
(peak-memory estimates), ``display`` (figures), ``cli`` (``python -m nst_helpers``);
``objective`` (the loss as terms) with ``distributions`` (Gaussian and sliced Wasserstein style
losses), ``settings`` (every option), ``schedule`` (time budget, progress), ``hardware``
(precision advice), ``metrics`` (edge ratios) and the studio (``widgets``, ``studio_*``).

Every name in :data:`__all__` is documented where it is defined.
"""

import os as _os

# Keep TensorFlow's C++ start-up chatter out of notebooks; without an NVIDIA driver its
# "failed call to cuInit" line is noise too, so only fatal messages remain there.
_os.environ.setdefault("TF_CPP_MIN_LOG_LEVEL", "2" if _os.path.exists("/dev/nvidiactl") else "3")

from .errors import (  # noqa: E402
    ImageError, LayerError, MemoryBudgetError, NSTError, OptionError, WeightsError,
)
from .images import (  # noqa: E402
    deprocess, list_samples, load_image, load_sample, preprocess, resize_long_side, save_image,
    to_float_image,
)
from .losses import (  # noqa: E402
    content_loss, gram_matrix, layer_style_loss, style_loss, total_variation_loss,
)
from .model import CONTENT_LAYERS, STYLE_LAYERS, VGG19_LAYERS, build_extractor, build_vgg19  # noqa: E402
from .optimise import StopReason, StyleObjective, StyleResult, stylize  # noqa: E402
from .settings import StyleSettings  # noqa: E402
from .controls import (  # noqa: E402
    color_stats, match_color, mask_from_color, mask_from_rectangle, rgb_to_yiq, soften_mask,
    transfer_luminance, yiq_to_rgb,
)
from .memory import check_memory, estimate_peak_bytes  # noqa: E402
from .nst import NST  # noqa: E402
from .own_images import load_own  # noqa: E402
from .weights import WeightsSource, load_vgg19_weights  # noqa: E402

__version__ = "0.1.0"

# The package's interface: re-exports of the most used names (each documented in its own module).
__all__ = [
    "ImageError", "LayerError", "MemoryBudgetError", "NSTError", "OptionError", "WeightsError",
    "deprocess", "list_samples", "load_image", "load_sample", "preprocess", "resize_long_side", "save_image",
    "to_float_image",
    "content_loss", "gram_matrix", "layer_style_loss", "style_loss", "total_variation_loss",
    "CONTENT_LAYERS", "STYLE_LAYERS", "VGG19_LAYERS", "build_extractor", "build_vgg19",
    "StopReason", "StyleObjective", "StyleResult", "stylize", "StyleSettings",
    "color_stats", "match_color", "mask_from_color", "mask_from_rectangle", "rgb_to_yiq", "soften_mask",
    "transfer_luminance", "yiq_to_rgb",
    "check_memory", "estimate_peak_bytes", "NST", "load_own", "WeightsSource", "load_vgg19_weights",
]

# matplotlib, ipywidgets: loaded on first use
_LAZY_MODULES = ("display", "widgets", "cli", "doctor", "metrics", "exercises", "textures")


def __getattr__(name):
    """``nh.display`` and ``nh.widgets`` without importing matplotlib or ipywidgets up front."""
    if name in _LAZY_MODULES:
        import importlib

        return importlib.import_module(f"{__name__}.{name}")
    raise AttributeError(f"module {__name__!r} has no attribute {name!r}")
