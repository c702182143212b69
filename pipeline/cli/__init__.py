"""The ``reelcal`` command: its commands (:mod:`.app`), the checks and messages they
share (:mod:`.common`), and progress and plans on the terminal (:mod:`.terminal`)."""

from pipeline.cli.app import app, main

__all__ = ["app", "main"]
