"""The web front end: a Flask app factory over one :class:`indexer.service.LibraryService`.

``create_app(test_config=None)`` follows Flask's tutorial shape: configuration from the library
home (the instance folder) and the environment, resources attached in the factory (never at
import), blueprints registered here. Views stay thin; the work happens in ``library`` and
``indexer``.
"""

from __future__ import annotations

from flask import Flask

from .config import load_config


def create_app(test_config: dict | None = None) -> Flask:
    app = Flask(__name__, instance_relative_config=False)
    load_config(app, test_config)

    from . import errors, formatting, security
    from .library import WebLibrary

    WebLibrary.init_app(app)
    security.init_app(app)
    formatting.init_app(app)
    errors.init_app(app)

    from .views import admin, api, auth, editor, packs, public
    app.register_blueprint(public.bp)
    app.register_blueprint(api.bp)
    app.register_blueprint(auth.bp)
    app.register_blueprint(editor.bp)
    app.register_blueprint(admin.bp)
    app.register_blueprint(packs.bp)
    return app


__all__ = ["create_app"]
