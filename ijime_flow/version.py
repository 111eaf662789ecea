"""The version of ijime-flow (the package facade re-exports it as ``ijime_flow.__version__``)."""

__version__ = "0.1.0"
