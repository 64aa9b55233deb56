"""The web dashboard and JSON API (``icetrack serve``)."""

from icetrack.web.app import create_app

__all__ = ["create_app"]
