"""attendance-suite: DfE-exact school attendance measures, early warning and impact evaluation.

Modules are imported on demand (``from attendance_lib import metrics``); importing the package
itself does no I/O and loads nothing heavy.
"""

__version__ = "0.1.0"
__all__ = ["__version__"]
