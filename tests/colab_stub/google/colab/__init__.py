"""A stand-in for Colab's ``google.colab`` package, used only by scripts/colab_sim.sh.

The simulated kernel imports it at start-up, so ``"google.colab" in sys.modules`` is
True as in Colab.  There is deliberately no ``google/__init__.py``: ``google`` stays a
namespace package, so ``google.protobuf`` (TensorFlow needs it) is still found.
"""

from . import files

__all__ = ["files"]
