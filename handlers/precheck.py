"""Pre-submission check (being written)."""

from telegram.ext import Application


def register(app: Application) -> None:
    """Registers the /cek flow."""
