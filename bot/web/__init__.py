"""The web dashboard (``parley web``): the leaderboard, models, audits, questions and the
knowledge base in a browser, read through the service (see docs/web.md).

Starlette serves Jinja2 pages; htmx (vendored in ``static/``) updates their live parts;
charts are SVG drawn on the server. Importing ``bot.web`` loads Starlette; nothing else
in Parley does.
"""

from .app import create_app
from .run import run_web

__all__ = ["create_app", "run_web"]
