"""Chronicle: an event-sourced chronicle of US–Mongolia milestones."""

from importlib.metadata import PackageNotFoundError, version

try:
    __version__ = version("chronicle")
except PackageNotFoundError:  # running from a source tree without installation
    __version__ = "0.0.0"
